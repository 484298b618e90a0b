import type pg from 'pg';

/** What {@link probeConnection} found out about a connection. */
export interface ConnectionProbe {
  /**
   * True when the connection is one server session of its own: the backend process the server says runs it
   * is the one the server named at connect time (its `BackendKeyData`). False behind a pooler (PgBouncer,
   * or any pooler that multiplexes clients over server connections), which has to give its clients cancel
   * keys of its own: there a session may not be the same server session from one transaction to the next.
   * A plain TCP forward (a mapped container port, an SSH tunnel) passes the key through and counts as direct.
   */
  readonly direct: boolean;
  /** The two process ids compared, for errors and logs. */
  readonly detail: string;
}

/**
 * Compares the backend process id the server gave this client at connect time with `pg_backend_pid()`, the
 * process running its statement now. One unnamed statement, no session state: safe to ask through any pooler.
 */
export async function probeConnection(client: pg.ClientBase): Promise<ConnectionProbe> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const serving = rows[0]!.pid;
  const announced = (client as unknown as { processID?: number | null }).processID;
  return {
    direct: announced === serving,
    detail: `server process ${serving}, announced at connect as ${announced ?? 'none'}`,
  };
}
