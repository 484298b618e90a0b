import { renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { seededRandom } from '@flux-rag/memory-core/testing';
import { ORIGINAL_SCHEMA } from '@flux-rag/memory-sqlite';
import type BetterSqlite3 from 'better-sqlite3';

// Loaded when a file is generated, not when the package is imported.
const require = createRequire(import.meta.url);

/** Options of {@link generateLegacyFile}. */
export interface LegacyFileOptions {
  /** Where to write the file; an existing file is replaced. */
  path: string;
  /** Number of sessions; default 10,000. */
  sessions?: number;
  /** Number of messages, spread over the sessions; default 1,000,000. */
  messages?: number;
  /** Seed of the pseudo-random generator: the same seed gives the same file. Default 1. */
  seed?: number;
}

const WORDS = (
  'the a retrieval augmented generation pipeline returns ranked source chunks each with page number and ' +
  'cosine similarity agent cites by ünïcödé 中文 🙂 Ошибка 日本語 embedding vector index query answer context'
).split(' ');

/**
 * Writes a SQLite file as the original Python backend would have: its exact schema, UUID v4 ids, naive
 * microsecond timestamps from `datetime.now().isoformat()` (no fraction when the microseconds are 0), metadata
 * from `json.dumps` (ASCII-escaped, `{}` when none), and messages of about 20 sessions at a time interleaved in
 * time order, some sharing a timestamp exactly. Used by the benchmark (1M messages) and by tests (smaller).
 */
export function generateLegacyFile(options: LegacyFileOptions): { sessions: number; messages: number } {
  const sessionCount = options.sessions ?? 10_000;
  const messageCount = options.messages ?? 1_000_000;
  const random = seededRandom(options.seed ?? 1);
  const int = (n: number) => Math.floor(random() * n);
  const temporary = `${options.path}.partial`;
  rmSync(temporary, { force: true });
  const Database = require('better-sqlite3') as typeof BetterSqlite3;
  const db = new Database(temporary);
  for (const statement of ORIGINAL_SCHEMA) db.exec(statement);
  const insertSession = db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)');
  const insertMessage = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)');

  // Message counts per session: random, summing exactly to messageCount.
  const counts = Array.from({ length: sessionCount }, () => 1 + random());
  const total = counts.reduce((a, b) => a + b, 0);
  const perSession = counts.map((c) => Math.floor((c / total) * messageCount));
  for (let i = 0, rest = messageCount - perSession.reduce((a, b) => a + b, 0); rest > 0; i++, rest--) {
    perSession[i % sessionCount]!++;
  }

  let clock = Date.UTC(2023, 0, 1) * 1000; // microseconds
  const stamp = () => {
    const micros = clock % 1_000_000;
    const base = new Date(Math.floor(clock / 1000)).toISOString().slice(0, 19);
    return micros === 0 ? base : `${base}.${String(micros).padStart(6, '0')}`;
  };
  const words = (n: number) => {
    let text = WORDS[int(WORDS.length)]!;
    for (let i = 1; i < n; i++) text += ` ${WORDS[int(WORDS.length)]}`;
    return text;
  };
  const uuid = () => {
    const hex = Array.from({ length: 32 }, () => int(16).toString(16));
    hex[12] = '4';
    hex[16] = (8 + int(4)).toString(16);
    const h = hex.join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };

  interface Active {
    id: string;
    left: number;
    last: string | null;
    turn: number;
  }
  const active: Active[] = [];
  let nextSession = 0;
  const open = () => {
    if (nextSession >= sessionCount) return;
    const id = uuid();
    const roll = random();
    const title = roll < 0.05 ? null : roll < 0.07 ? '' : words(2 + int(5));
    const metadata =
      random() < 0.5
        ? '{}'
        : `{"user_id": "u${int(500)}", "model": "${random() < 0.5 ? 'gpt-4o' : 'llama-3'}", "tags": ["rag"]}`;
    const at = stamp();
    insertSession.run(id, title, at, at, metadata);
    active.push({ id, left: perSession[nextSession]!, last: null, turn: 0 });
    nextSession++;
  };

  const writeSome = db.transaction((n: number): number => {
    let done = 0;
    while (done < n) {
      while (active.length < 20 && nextSession < sessionCount) open();
      if (active.length === 0) break;
      const index = int(active.length);
      const session = active[index]!;
      if (session.left === 0) {
        active.splice(index, 1);
        continue;
      }
      // About 2% of messages share their predecessor's timestamp exactly; only rowid orders them.
      const tie = session.last !== null && random() < 0.02;
      if (!tie) clock += 200_000 + int(4_000_000);
      const at = tie ? session.last! : stamp();
      const role =
        session.turn === 0
          ? 'system'
          : session.turn % 7 === 6
            ? 'tool'
            : session.turn % 2
              ? 'user'
              : 'assistant';
      let content: string;
      let metadata = '{}';
      if (role === 'tool') {
        content = `{"query": "${words(3)}", "rows": [1, 2, 3]}\n\tpath: C:\\\\data\\\\${words(1)}.txt`;
        metadata = `{"tool": "search", "args": {"q": "na\\u00efve \\"quoted\\""}, "result": null}`;
      } else {
        content = words(10 + int(110));
        if (role === 'assistant') {
          metadata = `{"sources": [{"doc": "doc-${int(1000)}.pdf", "page": ${int(300)}, "score": 0.${int(1000)}}], "latency_ms": ${int(5000)}, "tokens": {"prompt": ${int(2000)}, "completion": ${int(800)}}}`;
        }
      }
      insertMessage.run(uuid(), session.id, role, content, at, metadata);
      session.last = at;
      session.left--;
      session.turn++;
      done++;
      if (session.left === 0) active.splice(index, 1);
    }
    return done;
  });
  let written = 0;
  for (let step = 1; written < messageCount && step > 0; ) {
    step = writeSome(Math.min(50_000, messageCount - written));
    written += step;
  }
  while (nextSession < sessionCount) open();
  // As add_message did: a session's updated_at is its latest message's timestamp.
  db.exec(`UPDATE sessions SET updated_at = coalesce(
    (SELECT max(created_at) FROM messages WHERE messages.session_id = sessions.id), created_at)`);
  const result = {
    sessions: db.prepare('SELECT count(*) FROM sessions').pluck().get() as number,
    messages: written,
  };
  db.close();
  renameSync(temporary, options.path);
  return result;
}
