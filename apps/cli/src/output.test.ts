import { WriteStream } from 'node:tty';
import { afterEach, describe, expect, it } from 'vitest';
import { colours } from './output.js';

const saved = { ...process.env };
afterEach(() => {
  for (const key of ['NO_COLOR', 'FORCE_COLOR', 'TERM', 'NODE_DISABLE_COLORS', 'CI', 'TMUX']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

/** A terminal as Node describes one: colour support decided by Node's own hasColors() from the environment. */
const tty = {
  isTTY: true,
  write: () => true,
  hasColors: WriteStream.prototype.hasColors,
  getColorDepth: WriteStream.prototype.getColorDepth,
};

describe('colours', () => {
  it('an empty NO_COLOR is unset (the convention is: set and non-empty); a non-empty one turns colours off', () => {
    delete process.env.FORCE_COLOR;
    delete process.env.NODE_DISABLE_COLORS;
    // Node gives a terminal 2 colours under an unnamed CI (CI=true, as .ci/run sets) and 256 under tmux.
    delete process.env.CI;
    delete process.env.TMUX;
    process.env.TERM = 'xterm-256color';
    process.env.NO_COLOR = '';
    expect(colours(tty)).toBe(true);
    process.env.NO_COLOR = '1';
    expect(colours(tty)).toBe(false);
  });
});
