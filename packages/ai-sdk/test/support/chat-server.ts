import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConflictError } from '@flux-rag/memory-core';
import {
  convertToModelMessages,
  createIdGenerator,
  createUIMessageStream,
  isStepCount,
  type LanguageModel,
  pipeUIMessageStreamToResponse,
  streamText,
  type ToolSet,
  toUIMessageStream,
  type UIMessage,
  type UIMessageStreamOnEndCallback,
  validateUIMessages,
} from 'ai';
import type { ChatStore } from '../../src/index.js';

/** What `onEnd` received, kept to compare with what the store holds. */
export type EndEvent = Parameters<UIMessageStreamOnEndCallback<UIMessage>>[0];

/** The chat route served on 127.0.0.1, with what it saw. */
export interface ChatServer {
  readonly url: string;
  /** Every `onEnd` event, in order. */
  readonly ends: EndEvent[];
  /** The HTTP status of every request, in order. */
  readonly statuses: number[];
  /** Waits for every save started so far (the route does not await `onEnd`'s save before closing). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/**
 * The route the AI SDK's guides write, saving through the chat store: the request's messages are saved first
 * (a second tab's stale history is a 409 before the model runs), the model's reply is streamed with
 * `toUIMessageStream({ originalMessages, generateMessageId, onEnd })`, and `onEnd` saves the result, abort flags
 * included. The client going away aborts the model call, as a framework's request signal does.
 */
export async function startChatServer(options: {
  store: ChatStore;
  model: LanguageModel;
  tools: ToolSet;
  /** Stream a `data-weather` part before the model's reply, through `createUIMessageStream`. */
  dataPart?: boolean;
  /** The reply's id; `null`: none, as an app that does not give one (the SDK then streams the empty id). */
  generateMessageId?: (() => string) | null;
}): Promise<ChatServer> {
  const { store, model, tools } = options;
  const generateMessageId =
    options.generateMessageId === null
      ? undefined
      : (options.generateMessageId ?? createIdGenerator({ prefix: 'msg', size: 16 }));
  const ends: EndEvent[] = [];
  const statuses: number[] = [];
  const pending = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    pending.add(work);
    void work.finally(() => pending.delete(work)).catch(() => undefined);
    return work;
  };

  const server: Server = createServer((req, res) => {
    void track(
      (async () => {
        if (req.method !== 'POST' || req.url !== '/api/chat') {
          statuses.push(404);
          res.writeHead(404).end();
          return;
        }
        const { id, messages, trigger, messageId } = (await readJson(req)) as {
          id: string;
          messages: UIMessage[];
          trigger: 'submit-message' | 'regenerate-message';
          messageId?: string;
        };
        const abort = new AbortController();
        res.on('close', () => {
          if (!res.writableFinished) abort.abort();
        });
        try {
          await store.saveChat({ id, messages, trigger, messageId });
        } catch (error) {
          if (!ConflictError.isInstance(error)) throw error;
          statuses.push(409);
          res.writeHead(409, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'This chat changed in another tab: reload it.' }));
          return;
        }
        statuses.push(200);
        // The validated copy goes to the model only; the store keeps what the client sent.
        const validated = await validateUIMessages({ messages, tools });
        const result = streamText({
          model,
          messages: await convertToModelMessages(validated, { tools, ignoreIncompleteToolCalls: true }),
          tools,
          stopWhen: isStepCount(5),
          abortSignal: abort.signal,
        });
        const onEnd = (event: EndEvent) => {
          ends.push(event);
          return track(store.saveChat({ id, messages: event.messages, end: event })).then(() => undefined);
        };
        const stream = options.dataPart
          ? // The guides' other form: a data part written beside the model's reply (a new reply only).
            createUIMessageStream<UIMessage>({
              originalMessages: messages,
              execute: ({ writer }) => {
                writer.write({ type: 'start', messageId: (generateMessageId ?? (() => ''))() });
                writer.write({
                  type: 'data-weather',
                  id: 'd1',
                  data: { city: 'Paris', forecast: [20.5, 21] },
                });
                writer.merge(
                  toUIMessageStream({ stream: result.stream, tools, sendStart: false, sendSources: true }),
                );
              },
              onEnd,
            })
          : toUIMessageStream({
              stream: result.stream,
              tools,
              originalMessages: messages,
              ...(generateMessageId ? { generateMessageId } : {}),
              sendSources: true,
              onEnd,
            });
        pipeUIMessageStreamToResponse({ response: res, stream });
      })().catch((error: unknown) => {
        statuses.push(500);
        if (!res.headersSent) res.writeHead(500);
        res.end(String(error));
      }),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/chat`,
    ends,
    statuses,
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
