/**
 * Zones far from UTC on both sides: UTC+14 and UTC-10/-9 (with daylight saving), so that a timestamp stored as
 * local time without a zone moves by many hours and cannot go unnoticed.
 */
export const FAR_TIME_ZONES = ['Pacific/Kiritimati', 'America/Adak'] as const;

/**
 * Sets `process.env.TZ` (Node applies it at once to local-time conversions) and returns a function that puts
 * the previous value back, unset included.
 */
export function setTimeZone(zone: string): () => void {
  const previous = process.env.TZ;
  process.env.TZ = zone;
  return () => {
    if (previous === undefined) delete process.env.TZ;
    else process.env.TZ = previous;
  };
}
