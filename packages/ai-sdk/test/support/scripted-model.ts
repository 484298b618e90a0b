import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { simulateReadableStream } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';

/** One model call: the stream parts it answers with, and the delay between them. */
export interface Turn {
  readonly parts: readonly LanguageModelV4StreamPart[];
  readonly delayMs?: number;
}

const usage = {
  inputTokens: { total: 3, noCache: 3, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 5, text: 5, reasoning: 0 },
};

/** A model call answering `text`, optionally after a reasoning block signed in its provider metadata. */
export function textTurn(text: string, options: { reasoning?: string; delayMs?: number } = {}): Turn {
  const words = text.split(/(?<= )/);
  const parts: LanguageModelV4StreamPart[] = [{ type: 'stream-start', warnings: [] }];
  if (options.reasoning !== undefined) {
    const providerMetadata = { anthropic: { signature: `sig-${options.reasoning.length}` } };
    parts.push(
      { type: 'reasoning-start', id: 'r1' },
      { type: 'reasoning-delta', id: 'r1', delta: options.reasoning },
      { type: 'reasoning-end', id: 'r1', providerMetadata },
    );
  }
  parts.push({ type: 'text-start', id: 't1' });
  for (const word of words) parts.push({ type: 'text-delta', id: 't1', delta: word });
  parts.push(
    { type: 'text-end', id: 't1' },
    { type: 'finish', usage, finishReason: { unified: 'stop', raw: 'stop' } },
  );
  return { parts, ...(options.delayMs === undefined ? {} : { delayMs: options.delayMs }) };
}

/** A model call that cites a source, returns a file, and says `text`. */
export function richTurn(text: string): Turn {
  return {
    parts: [
      { type: 'stream-start', warnings: [] },
      { type: 'source', sourceType: 'url', id: 'src-1', url: 'https://example.com/paris', title: 'Paris' },
      { type: 'file', mediaType: 'image/png', data: { type: 'data', data: 'iVBORw0KGgo=' } },
      { type: 'text-start', id: 't1' },
      { type: 'text-delta', id: 't1', delta: text },
      { type: 'text-end', id: 't1' },
      { type: 'finish', usage, finishReason: { unified: 'stop', raw: 'stop' } },
    ],
  };
}

/** A model call that calls `toolName` with `input` and stops for its result. */
export function toolCallTurn(toolName: string, toolCallId: string, input: unknown): Turn {
  const json = JSON.stringify(input);
  return {
    parts: [
      { type: 'stream-start', warnings: [] },
      { type: 'tool-input-start', id: toolCallId, toolName },
      { type: 'tool-input-delta', id: toolCallId, delta: json },
      { type: 'tool-input-end', id: toolCallId },
      { type: 'tool-call', toolCallId, toolName, input: json },
      { type: 'finish', usage, finishReason: { unified: 'tool-calls', raw: 'tool_use' } },
    ],
  };
}

/**
 * `ai/test`'s mock model answering each call with the next scripted turn, so one script drives a whole
 * conversation (a tool loop takes two turns). A call with no turn left fails the test's request.
 */
export function scriptedModel(): {
  model: MockLanguageModelV4;
  script: (...turns: Turn[]) => void;
  left: () => number;
} {
  const queue: Turn[] = [];
  const model = new MockLanguageModelV4({
    doStream: async () => {
      const turn = queue.shift();
      if (!turn) throw new Error('the model was called with no scripted turn left');
      return {
        stream: simulateReadableStream({ chunks: [...turn.parts], chunkDelayInMs: turn.delayMs ?? 0 }),
      };
    },
  });
  return { model, script: (...turns) => void queue.push(...turns), left: () => queue.length };
}
