import {
  AbstractChat,
  type ChatInit,
  type ChatState,
  type ChatStatus,
  DefaultChatTransport,
  type HttpChatTransportInitOptions,
  type PrepareSendMessagesRequest,
  type UIMessage,
} from 'ai';

/**
 * The chat state a UI framework would keep (React's `useChat` keeps the same), held in plain fields so the SDK's
 * own `AbstractChat` runs headless in Node. Every change replaces the array, as the framework states do.
 */
export class NodeChatState<M extends UIMessage> implements ChatState<M> {
  status: ChatStatus = 'ready';
  error: Error | undefined = undefined;
  messages: M[];

  constructor(messages: M[] = []) {
    this.messages = messages;
  }

  pushMessage = (message: M): void => {
    this.messages = this.messages.concat(message);
  };

  popMessage = (): void => {
    this.messages = this.messages.slice(0, -1);
  };

  replaceMessage = (index: number, message: M): void => {
    this.messages = [
      ...this.messages.slice(0, index),
      this.snapshot(message),
      ...this.messages.slice(index + 1),
    ];
  };

  snapshot = <T>(thing: T): T => structuredClone(thing);
}

/** The SDK's chat client without a UI: `AbstractChat` over {@link NodeChatState}. */
export class TestChat extends AbstractChat<UIMessage> {
  constructor({ messages, ...init }: ChatInit<UIMessage> & { messages?: UIMessage[] }) {
    super({ ...init, state: new NodeChatState(messages) });
  }
}

/**
 * A client for the chat `id` talking to `api` (an absolute URL: Node has no page to resolve a path against),
 * with `transport`'s other options.
 */
export function testChat(
  api: string,
  id: string,
  options: Omit<ChatInit<UIMessage>, 'id' | 'transport'> = {},
  transport: Omit<HttpChatTransportInitOptions<UIMessage>, 'api'> = {},
): TestChat {
  return new TestChat({ ...options, id, transport: new DefaultChatTransport({ ...transport, api }) });
}

/** The resume guide's client request: the chat's id and the new message only (the server has the rest). */
export const sendLastMessageOnly: PrepareSendMessagesRequest<UIMessage> = ({ id, messages }) => ({
  body: { id, message: messages.at(-1) },
});

/** Resolves once `check` holds, polling; fails after `ms` with what was last seen. */
export async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
