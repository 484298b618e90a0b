/** Where a store takes "now" from; tests inject a fake one. */
export type Clock = () => Date;

/**
 * Wraps a clock so that it never goes backwards, at millisecond precision: a system clock stepped back by NTP
 * must not give a later message an earlier timestamp than the one before it.
 */
export function monotonic(clock: Clock = () => new Date()): Clock {
  let last = Number.NEGATIVE_INFINITY;
  return () => {
    const now = Math.max(Math.floor(clock().getTime()), last);
    last = now;
    return new Date(now);
  };
}
