import type pg from 'pg';

/** What {@link probeConnection} found out about a connection. */
export interface ConnectionProbe {
  /**
   * True when the server's end of this connection is the address and port the client connected to (or, over a
   * Unix socket, a socket of the server's own port and directories): nothing sits in between. False behind a
   * pooler or any other proxy (PgBouncer, a cloud proxy, a mapped port), where a session may not be the server
   * session it was yesterday, or the last statement's.
   */
  readonly direct: boolean;
  /** Where the client connected, and where the server says the connection arrived: for errors and logs. */
  readonly detail: string;
}

/** A connected pg client's socket, which pg does not type. */
interface ClientInternals {
  host?: string;
  port?: number;
  connection?: { stream?: { remoteAddress?: string; remotePort?: number } };
}

/**
 * Asks the server where this connection arrived (`inet_server_addr()`, `inet_server_port()`, its `port` and
 * socket directories) and compares with where the client connected. A transaction-mode pooler (PgBouncer,
 * and every pooler that accepts connections on an address of its own) answers `direct: false`, as does any
 * proxy or port mapping: the safe side to be wrong on, since what it turns off (named prepared statements,
 * session state) only costs speed. One statement, unnamed, no session state.
 */
export async function probeConnection(client: pg.ClientBase): Promise<ConnectionProbe> {
  const { rows } = await client.query<{
    addr: string | null;
    port: number | null;
    own_port: string;
    dirs: string;
  }>(
    `SELECT host(inet_server_addr()) AS addr, inet_server_port() AS port, current_setting('port') AS own_port,
       current_setting('unix_socket_directories') AS dirs`,
  );
  const server = rows[0]!;
  const internals = client as unknown as ClientInternals;
  const stream = internals.connection?.stream;
  const remoteAddress = stream?.remoteAddress;
  if (remoteAddress !== undefined) {
    const address = unmapped(remoteAddress);
    const port = stream?.remotePort;
    const direct = server.addr !== null && unmapped(server.addr) === address && server.port === port;
    return {
      direct,
      detail: `connected to ${address}:${port}, the server sees ${server.addr ?? 'a Unix socket'}:${server.port ?? server.own_port}`,
    };
  }
  // A Unix socket: `host` is its directory and `port` names the file (.s.PGSQL.<port>).
  const directory = internals.host ?? '';
  const directories = server.dirs.split(',').map((dir) => dir.trim());
  const direct =
    server.addr === null && String(internals.port) === server.own_port && directories.includes(directory);
  return {
    direct,
    detail: `connected to socket ${directory}/.s.PGSQL.${internals.port}, the server listens on port ${server.own_port} in ${server.dirs}`,
  };
}

/** `::ffff:127.0.0.1` (an IPv4 address on a dual-stack socket) as `127.0.0.1`. */
const unmapped = (address: string) => address.replace(/^::ffff:(?=\d+\.)/i, '');
