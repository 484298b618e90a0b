import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgress, formatCount, formatElapsed } from './progress.js';

function done(callback?: () => void): true {
  callback?.();
  return true;
}

/** A stream that says it is a terminal and keeps what is drawn on it. */
function terminal(): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  Object.assign(stream, {
    isTTY: true,
    columns: 120,
    cursorTo: (_x: number, _y?: number, cb?: () => void) => done(cb),
    clearLine: (_dir: number, cb?: () => void) => done(cb),
    moveCursor: (_dx: number, _dy: number, cb?: () => void) => done(cb),
  });
  return { stream, text: () => text };
}

afterEach(() => vi.useRealTimers());

describe('createProgress', () => {
  it('draws a bar with percentage and en-US counts when the total is known', async () => {
    const { stream, text } = terminal();
    const progress = createProgress({ stream });
    progress.update('export: records', 1500, 3000);
    await new Promise((r) => setTimeout(r, 50));
    progress.stop();
    expect(text()).toMatch(/export: records \[#{15}-{15}\] 50% 1,500\/3,000 \d+\.\ds/);
  });

  it('draws a spinner with the count and elapsed time when the total is unknown (an index build)', async () => {
    const { stream, text } = terminal();
    const progress = createProgress({ stream });
    progress.update('indexes build', 0, undefined);
    await new Promise((r) => setTimeout(r, 450));
    progress.stop();
    expect(text()).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] indexes build \d+\.\ds/);
    expect(text()).not.toMatch(/0%|0\/1/);
  });

  it('an indeterminate count, once there is one, is shown formatted', async () => {
    const { stream, text } = terminal();
    const progress = createProgress({ stream });
    progress.update('import: checking records', 12345);
    await new Promise((r) => setTimeout(r, 50));
    progress.stop();
    expect(text()).toMatch(/import: checking records 12,345 \d+\.\ds/);
  });

  it('is silent when stderr is not a terminal', () => {
    const { stream, text } = terminal();
    Object.assign(stream, { isTTY: false });
    createProgress({ stream }).update('x', 1, 2);
    expect(text()).toBe('');
  });
});

describe('formatting', () => {
  it('counts and elapsed time are formatted one way everywhere', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatElapsed(3200)).toBe('3.2s');
    expect(formatElapsed(65_000)).toBe('1m05s');
  });
});
