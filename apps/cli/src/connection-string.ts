import { DEFAULT_BACKENDS } from '@flux-rag/memory';
import { acceptedForms, parseConnectionString as parseWith } from '@flux-rag/memory-core/backend';
import { asUsageError, flatten, type ResolvedConnection } from './config.js';

/**
 * Where a connection string points, flat: `{ backend: 'sqlite', filename }`,
 * `{ backend: 'postgres', connectionString }` (the location fields of the backend that claims it; a
 * PostgreSQL schema comes from the settings, not from the string).
 */
export type ConnectionTarget = ResolvedConnection;

/** The forms {@link parseConnectionString} accepts, for error messages and help: every backend's. */
export const ACCEPTED_FORMS = acceptedForms(DEFAULT_BACKENDS);

/**
 * Parses a connection string strictly, through the backends registered in `@flux-rag/memory`, so that a typo
 * is a usage error (exit 2, `CONNECTION_STRING_INVALID`) instead of a SQLite file created at a path that was
 * meant as a URL: a string with a URL scheme (or one that looks like it has one) goes to the backend owning that
 * scheme, and an unknown scheme is refused; a scheme-less string is a backend's own form (libpq `key=value`) or
 * a file path. `source` names where the string came from (`--url`, `DATABASE_URL`, …) in the error, which
 * echoes the input with its password masked.
 */
export function parseConnectionString(input: string, source: string): ConnectionTarget {
  try {
    return flatten(parseWith(DEFAULT_BACKENDS, input, source));
  } catch (error) {
    throw asUsageError(error);
  }
}
