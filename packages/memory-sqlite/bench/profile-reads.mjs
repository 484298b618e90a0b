// Profiles the store's hot reads on a bench file: `node --cpu-prof bench/profile-reads.mjs <file> [op] [n]`,
// op one of getSessions, getHistory, getSessionsPage (default getSessions), n calls (default 20000).
import Database from 'better-sqlite3';
import { SqliteConversationMemory } from '../dist/index.js';

const [file, op = 'getSessions', n = '20000'] = process.argv.slice(2);
const ids = new Database(file, { readonly: true })
  .prepare('SELECT id FROM sessions LIMIT 4096')
  .pluck()
  .all();
const store = new SqliteConversationMemory({ filename: file });
await store.init();
const calls = {
  getSessions: () => store.getSessions({ limit: 50 }),
  getHistory: (i) => store.getHistory(ids[i % ids.length], { limit: 50 }),
  getSessionsPage: () => store.getSessionsPage({ limit: 50 }),
};
const started = performance.now();
for (let i = 0; i < Number(n); i++) await calls[op](i);
console.log(`${op}: ${(((performance.now() - started) / Number(n)) * 1000).toFixed(1)} µs per call`);
await store.close();
