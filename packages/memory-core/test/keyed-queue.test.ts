import { describe, expect, test } from 'vitest';
import { KeyedQueue } from '../src/keyed-queue.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('KeyedQueue', () => {
  test('runs tasks of one key one at a time, in queue order, whatever their durations', async () => {
    const queue = new KeyedQueue();
    const order: number[] = [];
    let running = 0;
    let most = 0;
    const results = await Promise.all(
      [5, 0, 3, 0, 1].map((ms, i) =>
        queue.run('k', async () => {
          running++;
          most = Math.max(most, running);
          await pause(ms);
          order.push(i);
          running--;
          return i * 10;
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(1);
    expect(results).toEqual([0, 10, 20, 30, 40]);
  });

  test('runs tasks of different keys concurrently', async () => {
    const queue = new KeyedQueue();
    let running = 0;
    let most = 0;
    const task = async () => {
      running++;
      most = Math.max(most, running);
      await pause(5);
      running--;
    };
    await Promise.all([queue.run('a', task), queue.run('b', task), queue.run('c', task)]);
    expect(most).toBe(3);
  });

  test('a failing task rejects its own promise only; the next task of the key still runs', async () => {
    const queue = new KeyedQueue();
    const failing = queue.run('k', async () => {
      throw new Error('boom');
    });
    const next = queue.run('k', async () => 'ran');
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
  });

  test('a task that throws synchronously does not break the queue', async () => {
    const queue = new KeyedQueue();
    const failing = queue.run('k', (() => {
      throw new Error('sync');
    }) as () => Promise<void>);
    await expect(failing).rejects.toThrow('sync');
    await expect(queue.run('k', async () => 1)).resolves.toBe(1);
  });

  test('settled(key) waits for the tasks queued so far, even failing ones, and not for later ones', async () => {
    const queue = new KeyedQueue();
    const done: string[] = [];
    void queue.run('k', async () => {
      await pause(5);
      done.push('first');
    });
    queue
      .run('k', async () => {
        done.push('second');
        throw new Error('ignored');
      })
      .catch(() => undefined);
    const settled = queue.settled('k');
    void queue.run('k', async () => {
      await pause(20);
      done.push('later');
    });
    await settled;
    expect(done).toEqual(['first', 'second']);
    await expect(queue.settled('unknown')).resolves.toBeUndefined();
  });

  test('allSettled waits for every key', async () => {
    const queue = new KeyedQueue();
    const done: string[] = [];
    void queue.run('a', async () => {
      await pause(5);
      done.push('a');
    });
    queue.run('b', () => Promise.reject(new Error('x'))).catch(() => undefined);
    void queue.run('c', async () => {
      await pause(1);
      done.push('c');
    });
    await queue.allSettled();
    expect(done.sort()).toEqual(['a', 'c']);
  });

  test('a key whose tasks are done starts fresh: a new task runs at once', async () => {
    const queue = new KeyedQueue();
    await queue.run('k', async () => undefined);
    await pause(0);
    let ran = false;
    const task = queue.run('k', async () => {
      ran = true;
    });
    await task;
    expect(ran).toBe(true);
  });
});
