import type { IsoMicros } from '../timestamp.js';

/**
 * What a stored timestamp that is missing (`NULL`) or unreadable (not ISO 8601, an impossible date) reads as,
 * sorts as, and becomes under the migrator's `repair`: the Unix epoch. Legacy files may hold such values; a read
 * must not fail on them, and a date in 1970 stands out to anyone looking at the data instead of passing for a
 * real time. The one definition every backend and the migrator use, so that a repaired row reads the same before
 * and after a migration.
 */
export const UNREADABLE_TIMESTAMP: IsoMicros = '1970-01-01T00:00:00.000000Z';
