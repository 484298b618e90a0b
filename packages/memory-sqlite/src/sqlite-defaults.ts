/** The SQLite file used when nothing names one: the documented default of the original settings. */
export const DEFAULT_SQLITE_PATH = './data/memory.db';
