import type { Clock } from '../clock.js';

/** Where every {@link FakeClock} starts: 2025-03-01T12:00:00.000Z, a time no test machine's clock shows. */
export const FAKE_CLOCK_START = Date.UTC(2025, 2, 1, 12, 0, 0, 0);

/**
 * A clock that moves only when told: frozen time gives same-millisecond ties, steps give distinct times, and a
 * step backwards imitates an NTP correction. Pass {@link FakeClock.now} as a store's `clock` option.
 */
export class FakeClock {
  #time: number;

  constructor(start: number = FAKE_CLOCK_START) {
    this.#time = start;
  }

  /** The clock function to hand to a store; bound, so it can be passed around. */
  readonly now: Clock = () => new Date(this.#time);

  /** The current time in milliseconds since the epoch. */
  get time(): number {
    return this.#time;
  }

  /** Moves the clock by `ms` (negative moves it back). */
  advance(ms: number): void {
    this.#time += ms;
  }

  /** Sets the clock to an absolute time. */
  set(time: number | Date): void {
    this.#time = typeof time === 'number' ? time : time.getTime();
  }
}
