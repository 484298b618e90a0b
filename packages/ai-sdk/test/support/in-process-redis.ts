import type { Publisher, Subscriber } from 'resumable-stream/generic';

/**
 * The Redis that `resumable-stream` needs, in this process: exactly its `Publisher` (`publish`, `set` with `EX`,
 * `get`, `incr`) and `Subscriber` (`subscribe`, `unsubscribe`) interfaces over one key space and one pub/sub bus,
 * with Redis's semantics where the package relies on them:
 *
 * - a message reaches every connection subscribed to its channel when it is published, later (asynchronously)
 *   and in publish order; `publish` resolves to the number of connections that receive it;
 * - `unsubscribe(channel)` drops that connection's subscription to the channel only (the package subscribes a
 *   channel once per connection: its channels are per stream and per listener);
 * - `incr` of a value that is not an integer rejects with Redis's `ERR value is not an integer or out of range`
 *   (the package reads it as "the stream is done"); `EX` expires a key, `incr` keeps its expiry.
 *
 * A test fake of Redis, not of anything this package owns: each `publisher()` / `subscriber()` is a connection,
 * as a request handler would open.
 */
export class InProcessRedis {
  private readonly values = new Map<string, { value: string; expiresAt: number | null }>();
  private readonly channels = new Map<string, Map<object, (message: string) => void>>();

  /** A publisher connection (`createClient()` in the `redis` package). */
  publisher(): Publisher {
    return {
      connect: async () => undefined,
      publish: async (channel, message) => {
        const receivers = [...(this.channels.get(channel)?.values() ?? [])];
        for (const receive of receivers) queueMicrotask(() => receive(message));
        return receivers.length;
      },
      set: async (key, value, options) => {
        const expiresAt = options?.EX === undefined ? null : Date.now() + options.EX * 1000;
        this.values.set(key, { value, expiresAt });
        return 'OK';
      },
      get: async (key) => this.read(key)?.value ?? null,
      incr: async (key) => {
        const entry = this.read(key);
        if (entry !== undefined && !/^-?\d+$/.test(entry.value)) {
          throw new Error('ERR value is not an integer or out of range');
        }
        const current = entry === undefined ? 0 : Number(entry.value);
        this.values.set(key, { value: String(current + 1), expiresAt: entry?.expiresAt ?? null });
        return current + 1;
      },
    };
  }

  /** A subscriber connection: its subscriptions are its own. */
  subscriber(): Subscriber {
    const connection = {};
    return {
      connect: async () => undefined,
      subscribe: async (channel, callback) => {
        const subscribers = this.channels.get(channel) ?? new Map<object, (message: string) => void>();
        subscribers.set(connection, callback);
        this.channels.set(channel, subscribers);
      },
      unsubscribe: async (channel) => {
        const subscribers = this.channels.get(channel);
        subscribers?.delete(connection);
        if (subscribers?.size === 0) this.channels.delete(channel);
      },
    };
  }

  /** Channels someone is subscribed to (a stream's request channel, a resumed client's chunk channel). */
  subscribedChannels(): string[] {
    return [...this.channels.keys()];
  }

  private read(key: string): { value: string; expiresAt: number | null } | undefined {
    const entry = this.values.get(key);
    if (entry?.expiresAt != null && entry.expiresAt <= Date.now()) {
      this.values.delete(key);
      return undefined;
    }
    return entry;
  }
}
