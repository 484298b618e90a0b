import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { withClient } from '@flux-rag/test-postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { usePostgres } from '../test/support.js';
import { probeConnection } from './postgres-pooler.js';

const pg = usePostgres();
const servers: Server[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A plain TCP forward to the run's server on another port (what a mapped container port is). */
async function forward(): Promise<string> {
  const target = new URL(pg.url);
  const server = createServer((socket) => {
    sockets.add(socket);
    const upstream = createConnection(Number(target.port || 5432), target.hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(pg.url);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as { port: number }).port);
  return url.toString();
}

describe('probeConnection', () => {
  it('direct - a connection to the server is its own session', async () => {
    expect((await withClient(pg.url, probeConnection)).direct).toBe(true);
  });

  it('direct - a TCP forward (a mapped container port) is still one session: prepared statements stay on', async () => {
    const url = await forward();
    expect((await withClient(url, probeConnection)).direct).toBe(true);
  });
});
