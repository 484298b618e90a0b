import { rmSync } from 'node:fs';
import { runConformanceSuite } from '@flux-rag/memory-core/conformance';
import { SqliteConversationMemory } from '../src/index.js';
import { tempDir, tempFile } from './support.js';

const dir = tempDir('memory-sqlite-conformance-');

/** Removes a database file and the WAL files beside it. */
function removeDatabase(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
}

// Every case on a new file, as users run it (WAL, file locks); the shared-database cases open one new file
// from several stores, which then also race to create its schema. (':memory:' runs the same code without WAL
// and is covered in src/sqlite-memory.test.ts; running the suite twice would double the time for little.)
runConformanceSuite(
  'sqlite (file)',
  ({ clock }) => new SqliteConversationMemory({ filename: tempFile(dir), clock }),
  {
    openShared: async () => {
      const path = tempFile(dir, 'shared');
      return {
        open: async () => new SqliteConversationMemory({ filename: path }),
        destroy: async () => removeDatabase(path),
      };
    },
  },
);
