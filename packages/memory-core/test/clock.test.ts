import { describe, expect, test } from 'vitest';
import { monotonic } from '../src/clock.js';

function sequence(times: number[]): () => Date {
  let i = 0;
  // An object standing in for a Date lets the test hand over sub-millisecond times, which Date cannot hold.
  return () => ({ getTime: () => times[i++]! }) as Date;
}

describe('monotonic', () => {
  test('never goes backwards when the underlying clock does', () => {
    const now = monotonic(sequence([1_000, 1_005, 990, 1_003, 1_010]));
    expect([1, 2, 3, 4, 5].map(() => now().getTime())).toEqual([1_000, 1_005, 1_005, 1_005, 1_010]);
  });

  test('truncates to whole milliseconds instead of rounding', () => {
    const now = monotonic(sequence([1_000.9, 1_001.2, 1_001.99]));
    expect([1, 2, 3].map(() => now().getTime())).toEqual([1_000, 1_001, 1_001]);
  });

  test('allows equal times and returns a fresh Date every call', () => {
    const now = monotonic(() => new Date(5));
    const a = now();
    const b = now();
    expect(a).not.toBe(b);
    a.setTime(0);
    expect(now().getTime()).toBe(5);
  });

  test('defaults to the system clock', () => {
    const before = Date.now();
    const at = monotonic()().getTime();
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
  });

  test('two wrapped clocks keep separate memories', () => {
    const times = [100, 50];
    const a = monotonic(sequence([100, 50]));
    const b = monotonic(sequence([50, 60]));
    expect([a().getTime(), b().getTime(), a().getTime(), b().getTime()]).toEqual([100, 50, 100, 60]);
    expect(times).toEqual([100, 50]);
  });
});
