import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSystemBinDir, type ReplicaPair, startReplicaPair } from './replica.js';
import { withClient } from './test-server.js';

const query = async (url: string, sql: string): Promise<unknown> =>
  withClient(url, async (client) => (await client.query(sql)).rows[0]);

/** The pair's behaviour, for one way of making the replica. */
function pairCases(method: 'pg_basebackup' | 'file copy', systemBinDir: string | null) {
  describe(`startReplicaPair (${method})`, () => {
    let pair: ReplicaPair;
    beforeAll(async () => {
      pair = await startReplicaPair({ systemBinDir });
    }, 120_000);
    afterAll(() => pair?.destroy());

    it(`startReplicaPair - ${method}: a hot standby that streams what the primary writes`, async () => {
      expect(pair.method).toBe(method);
      expect(await query(pair.replica.url, 'SELECT pg_is_in_recovery() AS r')).toEqual({ r: true });
      expect(await query(pair.primary.url, 'SELECT pg_is_in_recovery() AS r')).toEqual({ r: false });
      await query(pair.primary.url, 'CREATE TABLE t AS SELECT 1 AS x');
      await pair.waitForReplay();
      expect(await query(pair.replica.url, 'SELECT count(*)::int AS n FROM t')).toEqual({ n: 1 });
    });

    it(`pauseReplay - ${method}: the replica keeps the old state until resumed`, async () => {
      await pair.pauseReplay();
      await query(pair.primary.url, 'INSERT INTO t VALUES (2)');
      await expect(pair.waitForReplay(300)).rejects.toThrow(/did not replay/);
      expect(await query(pair.replica.url, 'SELECT count(*)::int AS n FROM t')).toEqual({ n: 1 });
      await pair.resumeReplay();
      await pair.waitForReplay();
      expect(await query(pair.replica.url, 'SELECT count(*)::int AS n FROM t')).toEqual({ n: 2 });
    });

    it(`stopReplica - ${method}: a restarted replica catches up on what it missed`, async () => {
      await pair.stopReplica();
      await expect(query(pair.replica.url, 'SELECT 1')).rejects.toThrow();
      await query(pair.primary.url, 'INSERT INTO t VALUES (3)');
      await pair.startReplica();
      await pair.waitForReplay();
      expect(await query(pair.replica.url, 'SELECT count(*)::int AS n FROM t')).toEqual({ n: 3 });
    });
  });
}

const system = findSystemBinDir();
// The file-copy path is what a machine without system tools gets; it runs everywhere.
pairCases('file copy', null);
if (system) pairCases('pg_basebackup', system);
else
  it.skip('startReplicaPair - pg_basebackup: no /usr/lib/postgresql/<n>/bin/pg_basebackup on this machine', () => {});
