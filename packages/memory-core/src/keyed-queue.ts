/**
 * Runs tasks that share a key one after another, in the order they were queued, while tasks of different keys
 * run concurrently. It is what keeps two un-awaited writes to one session in call order whatever the
 * connection pool does.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /** Queues `task` behind every earlier task of `key`; settles as `task` does. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Resolves once every task of `key` queued so far has settled. */
  settled(key: string): Promise<void> {
    return this.#tails.get(key) ?? Promise.resolve();
  }

  /** Resolves once every task queued so far, of any key, has settled. */
  async allSettled(): Promise<void> {
    await Promise.all(this.#tails.values());
  }
}
