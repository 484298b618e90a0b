import pg from 'pg';
import { startEmbeddedPostgres } from './embedded-server.js';

/** The variable naming an existing server to test against instead of starting one. */
export const TEST_URL_VARIABLE = 'MEMORY_TEST_POSTGRES_URL';

/** The PostgreSQL server a test run uses. */
export interface TestPostgres {
  /** Connection string of a database the tests may create schemas (and databases) in. */
  readonly url: string;
  /** `env` when {@link TEST_URL_VARIABLE} named it, `embedded` when this process started it. */
  readonly source: 'env' | 'embedded';
  /** The server's `server_version`. */
  readonly serverVersion: string;
  /** Stops and deletes an embedded server; leaves a server named by the variable alone. */
  stop(): Promise<void>;
}

/**
 * The server for a test run: the one `MEMORY_TEST_POSTGRES_URL` names when it is set, otherwise a throwaway
 * embedded PostgreSQL. Never resolves without a server that answered: when the named server does not answer
 * or the embedded one cannot start, it rejects with the reason, so PostgreSQL tests fail instead of being
 * skipped.
 */
export async function startTestPostgres(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<TestPostgres> {
  const named = env[TEST_URL_VARIABLE]?.trim();
  if (named) {
    let serverVersion: string;
    try {
      serverVersion = await serverVersionOf(named);
    } catch (error) {
      throw new Error(
        `${TEST_URL_VARIABLE} is set but its server does not answer: ${maskPassword(named)}: ` +
          `${(error as Error).message}`,
        { cause: error },
      );
    }
    return { url: named, source: 'env', serverVersion, stop: async () => {} };
  }
  const server = await startEmbeddedPostgres();
  try {
    return {
      url: server.url,
      source: 'embedded',
      serverVersion: await serverVersionOf(server.url),
      stop: () => server.destroy(),
    };
  } catch (error) {
    await server.destroy();
    throw error;
  }
}

/** Runs `work` with one connected client, ended afterwards. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  // An error after the work is done (server stopped) must not crash the test process.
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function serverVersionOf(url: string): Promise<string> {
  return withClient(url, async (client) => {
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0]!.server_version;
  });
}

/**
 * The password of a connection URL replaced by `***`, in both places a URL may hold one: the userinfo (up to
 * its last `@`, raw spaces, `@` and `:` included, as URL parsers read it) and a `password` query parameter.
 * (The same rules as memory-core's `maskSecrets`, for one URL; this private package does not depend on core.)
 */
export function maskPassword(url: string): string {
  return url
    .replace(/(:\/\/[^:/?#@]*):[^/?#]*@/, '$1:***@')
    .replace(/([?&][a-z_]*password=)[^&#]*/gi, '$1***');
}
