import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConflictError } from '@flux-rag/memory-core';
import {
  convertToModelMessages,
  createIdGenerator,
  createUIMessageStream,
  generateId,
  isStepCount,
  type LanguageModel,
  pipeTextStreamToResponse,
  pipeUIMessageStreamToResponse,
  streamText,
  type ToolSet,
  toUIMessageStream,
  UI_MESSAGE_STREAM_HEADERS,
  type UIMessage,
  type UIMessageStreamOnEndCallback,
  validateUIMessages,
} from 'ai';
import { createResumableStreamContext, type Publisher, type Subscriber } from 'resumable-stream/generic';
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
  /** The resumable server's POSTs: each stream's id, once `consumeSseStream` registered it and saved it. */
  readonly streams: string[];
  /** Waits for every save started so far (the route does not await `onEnd`'s save before closing). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** What `resumable-stream` stores streams in: Redis connections (`publisher()` and `subscriber()` each open one). */
export interface ResumableStreamRedis {
  publisher(): Publisher;
  subscriber(): Subscriber;
}

/** The resume guide's GET route: `/api/chat/:id/stream`, the path `DefaultChatTransport` reconnects to. */
const STREAM_PATH = /^\/api\/chat\/([^/]+)\/stream$/;

/**
 * The route the AI SDK's guides write, saving through the chat store: the request's messages are saved first
 * (a second tab's stale history is a 409 before the model runs), the model's reply is streamed with
 * `toUIMessageStream({ originalMessages, generateMessageId, onEnd })`, and `onEnd` saves the result, abort flags
 * included. The client going away aborts the model call, as a framework's request signal does. With `resumable`,
 * the resume guide's two routes are served instead (below).
 */
export async function startChatServer(options: {
  store: ChatStore;
  model: LanguageModel;
  tools: ToolSet;
  /** Stream a `data-weather` part before the model's reply, through `createUIMessageStream`. */
  dataPart?: boolean;
  /** The reply's id; `null`: none, as an app that does not give one (the SDK then streams the empty id). */
  generateMessageId?: (() => string) | null;
  /**
   * Serve the resume guide's routes instead, over this Redis: the POST takes `{ id, message }`, streams the reply
   * without tying the model call to the client's connection, and registers the SSE stream with
   * `resumable-stream`; `GET /api/chat/:id/stream` resumes the chat's active stream (204 when none).
   */
  resumable?: ResumableStreamRedis;
}): Promise<ChatServer> {
  const { store, model, tools } = options;
  const generateMessageId =
    options.generateMessageId === null
      ? undefined
      : (options.generateMessageId ?? createIdGenerator({ prefix: 'msg', size: 16 }));
  const ends: EndEvent[] = [];
  const statuses: number[] = [];
  const streams: string[] = [];
  const pending = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    pending.add(work);
    void work.finally(() => pending.delete(work)).catch(() => undefined);
    return work;
  };

  /** A second tab's stale history: 409, nothing streamed. */
  function conflict(res: ServerResponse) {
    statuses.push(409);
    res.writeHead(409, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'This chat changed in another tab: reload it.' }));
  }

  /**
   * What both POST routes do first: save the chat the request carries (a stale one is answered 409, and `null`
   * returned), then start the model's reply. The validated copy goes to the model only; the store keeps what the
   * client sent.
   */
  async function saveAndStream(
    res: ServerResponse,
    save: Parameters<typeof store.saveChat>[0] & { messages: UIMessage[] },
    abortSignal?: AbortSignal,
  ) {
    try {
      await store.saveChat(save);
    } catch (error) {
      if (!ConflictError.isInstance(error)) throw error;
      conflict(res);
      return null;
    }
    statuses.push(200);
    const validated = await validateUIMessages({ messages: save.messages, tools });
    return streamText({
      model,
      messages: await convertToModelMessages(validated, { tools, ignoreIncompleteToolCalls: true }),
      tools,
      stopWhen: isStepCount(5),
      ...(abortSignal ? { abortSignal } : {}),
    });
  }

  /** The persistence guide's POST, as the README shows it. */
  async function chatRoute(req: IncomingMessage, res: ServerResponse) {
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
    const result = await saveAndStream(res, { id, messages, trigger, messageId }, abort.signal);
    if (!result) return;
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
  }

  /** One `resumable-stream` context per request, as the guide makes them: each opens its Redis connections. */
  const streamContext = (redis: ResumableStreamRedis) =>
    createResumableStreamContext({
      waitUntil: null,
      publisher: redis.publisher(),
      subscriber: redis.subscriber(),
    });

  /**
   * The resume guide's POST. Its client sends the new message only (`prepareSendMessagesRequest`): the chat is
   * read, the message appended and saved with no active stream. The model call is not tied to the client's
   * connection: a client going away is a disconnect to resume from, not a stop. `consumeSseStream` (a tee of the
   * response) registers the SSE stream with `resumable-stream`, then saves its id as the chat's
   * `activeStreamId`. `onEnd` saves the reply, then clears that id: after the registration has saved it (a reply
   * faster than its registration would otherwise leave it set), and only if it is still this stream's.
   */
  async function resumableChatRoute(req: IncomingMessage, res: ServerResponse, redis: ResumableStreamRedis) {
    const { id, message } = (await readJson(req)) as { id: string; message: UIMessage };
    const messages = [...(await store.readChat(id)).messages, message];
    const result = await saveAndStream(res, { id, messages, activeStreamId: null });
    if (!result) return;
    const streamId = generateId();
    let registration: Promise<void> | undefined;
    pipeUIMessageStreamToResponse({
      response: res,
      stream: toUIMessageStream({
        stream: result.stream,
        tools,
        originalMessages: messages,
        ...(generateMessageId ? { generateMessageId } : {}),
        sendSources: true,
        onEnd: (event) => {
          ends.push(event);
          return track(
            (async () => {
              await store.saveChat({ id, messages: event.messages, end: event });
              await registration;
              await store.clearActiveStream(id, streamId);
            })(),
          );
        },
      }),
      // Called before the response's first chunk is read, so `registration` is set before `onEnd` can run.
      consumeSseStream: ({ stream }) => {
        registration = track(
          (async () => {
            await streamContext(redis).createNewResumableStream(streamId, () => stream);
            await store.saveChat({ id, activeStreamId: streamId });
            streams.push(streamId);
          })(),
        );
      },
    });
  }

  /**
   * The resume guide's GET: 204 when the chat has no active stream; else its stream, replayed from the start and
   * followed live, with the UI message stream's headers. A stream `resumable-stream` no longer has (done or
   * expired) while the chat still names it is a 204 too, where the guide would answer an empty 200.
   */
  async function resumeRoute(res: ServerResponse, id: string, redis: ResumableStreamRedis) {
    const chat = await store.readChat(id);
    const stream =
      chat.activeStreamId == null
        ? null
        : await streamContext(redis).resumeExistingStream(chat.activeStreamId);
    if (stream == null) {
      statuses.push(204);
      res.writeHead(204).end();
      return;
    }
    statuses.push(200);
    await pipeTextStreamToResponse({ response: res, headers: UI_MESSAGE_STREAM_HEADERS, stream });
  }

  const server: Server = createServer((req, res) => {
    void track(
      (async () => {
        const streamPath = STREAM_PATH.exec(req.url ?? '');
        if (options.resumable && req.method === 'GET' && streamPath) {
          return resumeRoute(res, decodeURIComponent(streamPath[1]!), options.resumable);
        }
        if (req.method !== 'POST' || req.url !== '/api/chat') {
          statuses.push(404);
          res.writeHead(404).end();
          return;
        }
        return options.resumable ? resumableChatRoute(req, res, options.resumable) : chatRoute(req, res);
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
    streams,
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
