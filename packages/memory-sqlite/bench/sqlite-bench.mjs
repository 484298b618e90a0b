// `pnpm bench`: @flux-rag/memory-sqlite against the same operations written directly on better-sqlite3
// prepared statements, in the same process and run, on files of 10k and 1M messages (100 per session),
// generated in a fresh mkdtemp folder removed after the run (or kept and reused in BENCH_DIR). Prints ops/s, latencies and ratios; then issue 8's
// measures on the large file: searchMessages (a selective and a common word), metadata-filtered getSessions
// with the term index and with a json_extract scan, cursor vs offset paging through every session, and the
// time to upgrade that file from schema version 3 (building the indexes).
//
// Options (environment): BENCH_CALLS (the hot reads: calls per task, taking turns call by call, default 5000),
// BENCH_TIME_MS (the other tasks: per task, over BENCH_ROUNDS alternating rounds, default 3000 over 4),
// BENCH_READS_ONLY=1 (the hot reads only, e.g. with many short rounds on a loaded machine), BENCH_MESSAGES (largest file, default
// 1000000), BENCH_DIR (a folder of your own where the files
// are kept and reused across runs; default a fresh mkdtemp folder, removed after), BENCH_UPGRADE=0 to skip
// the upgrade timing (it copies the large file and rebuilds its indexes).
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSearchQuery, snippetOf } from '@flux-rag/memory-core/backend';
// One seeded generator for tests, benches and the migrator's legacy files, so that every run writes the same data.
import { seededRandom as prng } from '@flux-rag/memory-core/testing';
import Database from 'better-sqlite3';
import { Bench } from 'tinybench';
import { SqliteConversationMemory } from '../dist/index.js';

const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
/** Calls per task of the hot reads, taking turns call by call (see `alternateCalls`). */
const CALLS = Number(process.env.BENCH_CALLS ?? 5000);
/** BENCH_READS_ONLY=1: only the hot reads against the raw driver (no writes, search, filters, upgrade). */
const READS_ONLY = process.env.BENCH_READS_ONLY === '1';
const LARGE = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const SMALL = 10_000;
const PER_SESSION = 100;
const OWN_DIR = process.env.BENCH_DIR === undefined;
// Never a fixed name in the shared temporary folder: another user's run could have made it, or read it.
const DIR = process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'flux-rag-memory-sqlite-bench-'));
// Bump when the generated content or schema changes, so that old files are not reused.
const DATASET_VERSION = 3;
const UPGRADE = process.env.BENCH_UPGRADE !== '0';
/** A word in about 1 message in 1000 (one of the 997 generated texts): the selective search. */
const RARE_WORD = 'quasar';
/** A word of the generated vocabulary, in most messages: the common search. */
const COMMON_WORD = 'retrieval';

const WORDS =
  'the retrieval augmented generation pipeline returns ranked chunks with cosine similarity each source cites page number agent tool answer question context window embedding vector index'.split(
    ' ',
  );

function naive(ms, micros) {
  return `${new Date(ms).toISOString().slice(0, 23)}${String(micros).padStart(3, '0')}`;
}

/**
 * Session metadata: `team` names 10 sessions in 10,000 (0.1%), `user_id` about 1%, `tags: ["ops"]` a third,
 * `plan: "free"` 90%.
 */
function sessionMetadata(s) {
  return JSON.stringify({
    user_id: `u${s % 97}`,
    team: `t${s % 1000}`,
    plan: s % 10 === 0 ? 'pro' : 'free',
    tags: ['rag', s % 3 === 0 ? 'ops' : 'i18n'],
  });
}

/** Creates (once) a file of `messages` messages in `messages / 100` sessions, through the store's own schema. */
async function dataset(messages) {
  const path = join(DIR, `memory-${messages}-v${DATASET_VERSION}.db`);
  if (existsSync(path)) return path;
  mkdirSync(DIR, { recursive: true });
  const building = `${path}.building`;
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${building}${suffix}`, { force: true });
  const started = Date.now();
  process.stdout.write(`generating ${messages.toLocaleString('en')} messages in ${building} ... `);
  const schema = new SqliteConversationMemory({ filename: building });
  await schema.init();
  await schema.close();

  const db = new Database(building);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -1000000');
  const random = prng(42);
  const contents = Array.from({ length: 997 }, () => {
    const length = 10 + Math.floor(random() * 60);
    return Array.from({ length }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');
  });
  contents[500] = `${contents[500]} ${RARE_WORD}`;
  const sessions = messages / PER_SESSION;
  const ids = Array.from({ length: sessions }, () => randomUUID());
  const start = Date.UTC(2024, 0, 1);
  const insertSession = db.prepare(
    `INSERT INTO sessions (id, title, created_at, updated_at, metadata, message_count, last_message_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertMessage = db.prepare(
    'INSERT INTO messages (id, session_id, role, content, created_at, metadata) VALUES (?, ?, ?, ?, ?, ?)',
  );
  // Messages are written in time order across sessions, as a busy service writes them: a session's messages
  // are spread over the whole file, not stored next to each other.
  const at = (step, s) => start + (step * sessions + s) * 1000;
  db.transaction(() => {
    for (let s = 0; s < sessions; s++) {
      const first = naive(at(0, s), 0);
      const last = naive(at(PER_SESSION - 1, s), 0);
      // Counts start at 0: the triggers of schema version 5 count each message as it is inserted below.
      insertSession.run(ids[s], `Session ${s}`, first, last, sessionMetadata(s), 0, null);
    }
    let n = 0;
    for (let step = 0; step < PER_SESSION; step++) {
      for (let s = 0; s < sessions; s++) {
        const assistant = step % 2 === 1;
        insertMessage.run(
          randomUUID(),
          ids[s],
          assistant ? 'assistant' : 'user',
          contents[n++ % contents.length],
          naive(at(step, s), 0),
          assistant
            ? `{"sources": ["doc-${n % 50}.pdf"], "tokens": {"prompt": ${n % 900}, "completion": 120}}`
            : '{}',
        );
      }
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  for (const suffix of ['-wal', '-shm']) rmSync(`${building}${suffix}`, { force: true });
  copyFileSync(building, path);
  rmSync(building, { force: true });
  console.log(`${((Date.now() - started) / 1000).toFixed(1)} s`);
  return path;
}

/** The raw side: the same operations on better-sqlite3 prepared statements, results decoded the same way. */
function rawStore(path) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // The store's statement: ordered by the canonical sort key that the history index of schema version 6 holds.
  const history = db.prepare(
    `SELECT * FROM messages WHERE session_id = ?
     ORDER BY coalesce(created_order, created_at) DESC, seq DESC LIMIT ?`,
  );
  const sessions = db.prepare('SELECT * FROM sessions ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?');
  // The first page by creation, on the index of schema version 6 (its key is the canonical sort key).
  const created = db.prepare(
    `SELECT *, coalesce(created_order, created_at) AS order_at FROM sessions
     ORDER BY coalesce(created_order, created_at) DESC, id DESC LIMIT ?`,
  );
  // The store's own statement: since schema version 5 the triggers on messages keep message_count and
  // last_message_at, for the raw INSERT below as for the store's.
  const touch = db.prepare('UPDATE sessions SET updated_at = ? WHERE id = ?');
  const insert = db.prepare(
    'INSERT INTO messages (id, session_id, role, content, created_at, metadata) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const add = db.transaction((sessionId, role, content, metadata) => {
    const id = randomUUID();
    const at = `${new Date().toISOString().slice(0, 23)}000`;
    if (touch.run(at, sessionId).changes === 0) throw new Error(`no session ${sessionId}`);
    insert.run(id, sessionId, role, content, at, JSON.stringify(metadata));
    return id;
  });
  const countingList = db.prepare(
    `SELECT s.*, count(m.id) AS n FROM sessions s LEFT JOIN messages m ON m.session_id = s.id
     GROUP BY s.id ORDER BY s.updated_at DESC, s.id DESC LIMIT ?`,
  );
  return {
    getHistory(sessionId, limit) {
      return history.all(sessionId, limit).reverse().map(messageOf);
    },
    getSessions(limit, offset) {
      return sessions.all(limit, offset).map(sessionOf);
    },
    /** The first page by creation and whether another follows, as the store reads it (one row more). */
    getSessionsPage(limit) {
      const rows = created.all(limit + 1);
      return { items: rows.slice(0, limit).map(sessionOf), more: rows.length > limit };
    },
    addMessage(sessionId, message) {
      return add.immediate(sessionId, message.role, message.content, message.metadata ?? {});
    },
    /** Listing with counts computed from the messages on every call, as a schema without stored counts must. */
    getSessionsGroupBy(limit) {
      return countingList.all(limit);
    },
    close: () => db.close(),
  };
}

function sessionIdsOf(path) {
  const db = new Database(path, { readonly: true });
  const ids = db.prepare('SELECT id FROM sessions').pluck().all();
  db.close();
  const random = prng(7);
  return Array.from({ length: 4096 }, () => ids[Math.floor(random() * ids.length)]);
}

/**
 * Runs the named tasks in `ROUNDS` rounds, reversing their order every round so that a change in the machine's
 * load (it is shared) weighs on both sides of a comparison alike, and returns per task the statistics of all
 * its samples: mean, median (p50) and p99 latency in ms.
 */
async function measure(tasks, { rounds = ROUNDS, ...options } = {}) {
  const names = Object.keys(tasks);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({
      time: TIME_MS / rounds,
      warmupTime: Math.min(300, TIME_MS / rounds / 4),
      retainSamples: true,
      ...options,
    });
    // Told rather than detected: detection calls the function once more, and an un-awaited store write could
    // then still hold the write lock when the raw side starts.
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      bench.add(name, tasks[name], { async: name.startsWith('store') });
    }
    await bench.run();
    for (const task of bench.tasks) {
      if (task.result.state !== 'completed') {
        throw new Error(`${task.name}: ${task.result.state} ${task.result.error?.stack ?? ''}`);
      }
      samples[task.name].push(...task.result.latency.samples);
    }
  }
  return Object.fromEntries(names.map((name) => [name, statistics(samples[name])]));
}

/**
 * The hot reads' measure: the tasks take turns call by call, `calls` times each (BENCH_CALLS), and per task the
 * statistics of all its calls. Time-boxed rounds (`measure`) give each side a stretch of its own, and this
 * machine's speed drifts by a third within minutes: a drift between the store's stretch and the raw driver's
 * moved the 1.1x ratios by more than 0.1 from run to run. Taking turns call by call puts any drift on both
 * sides alike.
 */
async function alternateCalls(tasks, calls = CALLS) {
  const names = Object.keys(tasks);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let i = 0; i < calls + 200; i++) {
    for (const name of i % 2 === 0 ? names : [...names].reverse()) {
      const started = performance.now();
      await tasks[name]();
      // The first 200 turns warm up the JIT and the caches.
      if (i >= 200) samples[name].push(performance.now() - started);
    }
  }
  return Object.fromEntries(names.map((name) => [name, statistics(samples[name])]));
}

function statistics(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    mean: sorted.reduce((sum, x) => sum + x, 0) / sorted.length,
    p50: at(0.5),
    p99: at(0.99),
    count: sorted.length,
  };
}

const us = (ms) => `${(ms * 1000).toFixed(1)} µs`;
const ops = (stats) => Math.round(1000 / stats.mean).toLocaleString('en');

/** One line of the table: ratios of the medians (robust to load spikes of the shared machine) and of the means. */
function row(label, store, raw, target) {
  const ratio = store.p50 / raw.p50;
  return {
    operation: label,
    'store ops/s': ops(store),
    'raw ops/s': ops(raw),
    'store p50 / p99': `${us(store.p50)} / ${us(store.p99)}`,
    'raw p50 / p99': `${us(raw.p50)} / ${us(raw.p99)}`,
    'ratio p50': `${ratio.toFixed(2)}x`,
    'ratio mean': `${(store.mean / raw.mean).toFixed(2)}x`,
    target: target === undefined ? '' : `≤ ${target}x ${ratio <= target ? 'ok' : 'MISSED'}`,
  };
}

async function main() {
  console.log(
    `@flux-rag/memory-sqlite bench: Node ${process.version}, SQLite ${new Database(':memory:').prepare('SELECT sqlite_version()').pluck().get()}, ${TIME_MS} ms per task`,
  );
  const smallFile = await dataset(SMALL);
  const largeFile = await dataset(LARGE);
  const rows = [];

  // Reads on the generated files themselves: nothing is written to them.
  const lists = {};
  for (const [label, path] of [
    [`${SMALL.toLocaleString('en')} messages`, smallFile],
    [`${LARGE.toLocaleString('en')} messages`, largeFile],
  ]) {
    const store = new SqliteConversationMemory({ filename: path });
    await store.init();
    const raw = rawStore(path);
    const ids = sessionIdsOf(path);
    let i = 0;
    const results = await alternateCalls({
      'store getHistory': () => store.getHistory(ids[i++ & 4095], { limit: 50 }),
      'raw getHistory': () => raw.getHistory(ids[i++ & 4095], 50),
      'store getSessions': () => store.getSessions({ limit: 50 }),
      'raw getSessions': () => raw.getSessions(50, 0),
      'store getSessionsPage': () => store.getSessionsPage({ limit: 50 }),
      'raw getSessionsPage': () => raw.getSessionsPage(50),
    });
    lists[label] = results['store getSessions'];
    rows.push(
      row(`getHistory(limit 50), ${label}`, results['store getHistory'], results['raw getHistory'], 1.1),
      row(`getSessions(limit 50), ${label}`, results['store getSessions'], results['raw getSessions'], 1.1),
      row(
        `getSessionsPage(limit 50), ${label}`,
        results['store getSessionsPage'],
        results['raw getSessionsPage'],
        1.1,
      ),
    );
    if (READS_ONLY) {
      await store.close();
      raw.close();
      continue;
    }
    // Slow by design on the large file: a few runs are enough.
    const counting = await measure(
      { 'counting getSessions': () => raw.getSessionsGroupBy(50) },
      { rounds: 1, time: 0, warmupTime: 0, iterations: 2, warmupIterations: 0 },
    );
    lists[`${label} counting`] = counting['counting getSessions'];
    await store.close();
    raw.close();
  }

  if (READS_ONLY) {
    console.table(rows);
    return;
  }

  // Writes on a copy of the large file, so that the generated one stays as it is.
  const copy = join(DIR, `run-${process.pid}.db`);
  copyFileSync(largeFile, copy);
  try {
    const store = new SqliteConversationMemory({ filename: copy });
    await store.init();
    const raw = rawStore(copy);
    const ids = sessionIdsOf(copy);
    const message = {
      role: 'user',
      content: 'How does the retrieval step rank the chunks it returns, and which sources does it cite?',
      metadata: { client: 'bench', tokens: { prompt: 21 } },
    };
    let i = 0;
    // Fair by construction: the search and filter indexes are kept by triggers in the file's schema, so the raw
    // INSERT fires the same triggers (FTS5 word index, trigram check) as the store's.
    const results = await measure({
      'store addMessage': () => store.addMessage(ids[i++ & 4095], message),
      'raw addMessage': () => raw.addMessage(ids[i++ & 4095], message),
    });
    rows.push(
      row(
        `addMessage, ${LARGE.toLocaleString('en')} messages`,
        results['store addMessage'],
        results['raw addMessage'],
        2,
      ),
    );
    await store.close();
    raw.close();
  } finally {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${copy}${suffix}`, { force: true });
  }

  const finding = await findingBench(largeFile);
  const upgrade = UPGRADE ? await upgradeBench(largeFile) : null;

  console.table(rows);
  const [small, smallCounting, large, largeCounting] = Object.values(lists);
  const growth = large.p50 / small.p50;
  console.log(
    `getSessions(limit 50) as the file grows ${SMALL.toLocaleString('en')} -> ${LARGE.toLocaleString('en')} messages: ` +
      `${us(small.p50)} -> ${us(large.p50)} (p50) = ${growth.toFixed(2)}x (target ≤ 2x ${growth <= 2 ? 'ok' : 'MISSED'})`,
  );
  console.log(
    `  for comparison, counting the messages with GROUP BY on every call (a schema without stored counts): ` +
      `${us(smallCounting.p50)} -> ${us(largeCounting.p50)} = ${(largeCounting.p50 / smallCounting.p50).toFixed(2)}x`,
  );
  console.log(
    `\nIssue 8 on ${LARGE.toLocaleString('en')} messages, ${(LARGE / PER_SESSION).toLocaleString('en')} sessions:`,
  );
  console.table(finding.rows);
  for (const line of finding.paging) console.log(line);
  if (upgrade) console.log(upgrade);
}

/** A stored timestamp (naive UTC text, microseconds) as a Date, as the store decodes it. */
function date(text) {
  return new Date(`${text.slice(0, 23)}Z`);
}

/** Messages decoded as the raw side of getHistory decodes them. */
function messageOf(row) {
  return {
    id: row.id,
    sessionId: row.session_id,
    role: row.role,
    content: row.content,
    createdAt: date(row.created_at),
    metadata: JSON.parse(row.metadata),
  };
}

/** Sessions decoded as the raw side of getSessions decodes them. */
function sessionOf(row) {
  return {
    id: row.id,
    title: row.title,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
    metadata: JSON.parse(row.metadata),
    ownerId: row.owner_id,
    messageCount: row.message_count,
    lastMessageAt: row.last_message_at === null ? null : date(row.last_message_at),
  };
}

/**
 * The raw side of issue 8's reads: the store's own SQL on better-sqlite3 prepared statements (same decoding,
 * same snippets, the same choice between the term index and a scan in listing order), and, for comparison, each
 * way alone: a LIKE scan of the messages; the sessions through the term index only, or by a json_extract scan.
 */
function rawFinder(path) {
  const db = new Database(path, { readonly: true });
  const search = db.prepare(
    `SELECT m.seq, m.id, m.session_id, m.role, m.content, m.created_at, m.metadata, -bm25(messages_fts) AS score
     FROM messages_fts JOIN messages AS m ON m.seq = messages_fts.rowid
     WHERE messages_fts MATCH ? AND m.session_id IN (SELECT id FROM sessions)
     ORDER BY score DESC, m.created_at DESC, m.seq DESC LIMIT ? OFFSET ?`,
  );
  const like = db.prepare(
    `SELECT * FROM messages WHERE content LIKE ? AND session_id IN (SELECT id FROM sessions)
     ORDER BY created_at DESC, seq DESC LIMIT ?`,
  );
  const indexed = db.prepare(
    `SELECT * FROM sessions WHERE id IN (
       SELECT session_id FROM session_metadata_terms WHERE label = ? AND value = ?
     ) AND CASE WHEN json_valid(metadata) THEN json_type(metadata, ?) = 'text' AND json_extract(metadata, ?) = ?
       ELSE 0 END
     ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?`,
  );
  const scan = db.prepare(
    'SELECT * FROM sessions WHERE json_extract(metadata, ?) = ? ORDER BY updated_at DESC, id DESC LIMIT ?',
  );
  const exact = db.prepare(
    `SELECT * FROM sessions WHERE CASE WHEN json_valid(metadata)
       THEN json_type(metadata, ?) = 'text' AND json_extract(metadata, ?) = ? ELSE 0 END
     ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?`,
  );
  const candidates = db.prepare(
    `SELECT (SELECT count(*) FROM (SELECT 1 FROM session_metadata_terms WHERE label = ? AND value = ? LIMIT ?)) AS n,
       (SELECT max(rowid) FROM sessions) AS sessions`,
  );
  const viaIndex = (key, value, limit) =>
    indexed.all(`k${key}`, `s${value}`, `$."${key}"`, `$."${key}"`, value, limit, 0).map(sessionOf);
  return {
    searchMessages(word, limit) {
      const terms = parseSearchQuery(word);
      return search.all(`"${word}"`, limit + 1, 0).map((row) => {
        const message = messageOf(row);
        return { message, rank: row.score, snippet: snippetOf(message.content, terms) };
      });
    },
    likeScan: (word, limit) => like.all(`%${word}%`, limit).map(messageOf),
    /** As the store: the term index, unless the filter matches so many sessions that a scan fills the page sooner. */
    filtered(key, value, limit) {
      const { sessions } = candidates.get('', '', 0);
      const { n } = candidates.get(`k${key}`, `s${value}`, Math.ceil(Math.sqrt(limit * sessions)) + 1);
      if (n * n <= limit * sessions) return viaIndex(key, value, limit);
      return exact.all(`$."${key}"`, `$."${key}"`, value, limit, 0).map(sessionOf);
    },
    viaIndex,
    scanned: (key, value, limit) => scan.all(`$."${key}"`, value, limit).map(sessionOf),
    close: () => db.close(),
  };
}

/** searchMessages, metadata filters and paging on the large file (read only). */
async function findingBench(path) {
  const store = new SqliteConversationMemory({ filename: path });
  await store.init();
  const raw = rawFinder(path);
  const rows = [];
  const count = (sql, ...parameters) => {
    const db = new Database(path, { readonly: true });
    const n = db
      .prepare(sql)
      .pluck()
      .get(...parameters);
    db.close();
    return n;
  };
  const hits = (word) => count('SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?', `"${word}"`);
  const rare = hits(RARE_WORD);
  const common = hits(COMMON_WORD);

  const selective = await measure({
    'store search': () => store.searchMessages(RARE_WORD),
    'raw search': () => raw.searchMessages(RARE_WORD, 20),
  });
  rows.push(
    row(
      `searchMessages('${RARE_WORD}'), ${rare.toLocaleString('en')} hits`,
      selective['store search'],
      selective['raw search'],
    ),
  );
  // Every hit of a common word is ranked before the first page is known: slow by nature, a few runs suffice.
  const few = { rounds: 1, time: 0, warmupTime: 0, iterations: 5, warmupIterations: 1 };
  const broad = await measure(
    {
      'store search': () => store.searchMessages(COMMON_WORD),
      'raw search': () => raw.searchMessages(COMMON_WORD, 20),
    },
    few,
  );
  rows.push(
    row(
      `searchMessages('${COMMON_WORD}'), ${common.toLocaleString('en')} hits`,
      broad['store search'],
      broad['raw search'],
    ),
  );
  const scans = await measure({ 'like scan': () => raw.likeScan(RARE_WORD, 20) }, { ...few, iterations: 3 });
  rows.push(row(`  no index: LIKE '%${RARE_WORD}%' scan`, scans['like scan'], selective['raw search']));

  for (const [key, value, share] of [
    ['team', 't42', '0.1%'],
    ['user_id', 'u5', '1%'],
    ['plan', 'free', '90%'],
  ]) {
    const where = { metadata: { [key]: value } };
    const results = await measure({
      'store filter': () => store.getSessions({ where, limit: 50 }),
      'raw filter': () => raw.filtered(key, value, 50),
      'raw index': () => raw.viaIndex(key, value, 50),
      'raw scan': () => raw.scanned(key, value, 50),
    });
    const matches = count(
      'SELECT count(*) FROM sessions WHERE json_extract(metadata, ?) = ?',
      `$."${key}"`,
      value,
    );
    rows.push(
      row(
        `getSessions({ ${key}: '${value}' }), ${matches.toLocaleString('en')} sessions (${share})`,
        results['store filter'],
        results['raw filter'],
      ),
      row(`  term index only`, results['raw index'], results['raw filter']),
      row(`  no index: json_extract scan`, results['raw scan'], results['raw filter']),
    );
  }
  const paging = await pagingBench(store);
  await store.close();
  raw.close();
  return { rows, paging };
}

/**
 * Every session, 50 at a time, by cursor (getSessionsPage) and by offset (getSessions), `passes` times; the
 * median latency of each page position over the passes, summarised at the start and the end of the listing.
 */
async function pagingBench(store, passes = 7) {
  const byCursor = [];
  const byOffset = [];
  const record = (pages, at, ms) => {
    pages[at] ??= [];
    pages[at].push(ms);
  };
  for (let pass = 0; pass < passes; pass++) {
    let cursor = null;
    let page = 0;
    do {
      const started = performance.now();
      const result = await store.getSessionsPage({ limit: 50, cursor });
      record(byCursor, page++, performance.now() - started);
      cursor = result.nextCursor;
    } while (cursor !== null);
    for (let offset = 0, at = 0; ; offset += 50, at++) {
      const started = performance.now();
      const result = await store.getSessions({ limit: 50, offset });
      record(byOffset, at, performance.now() - started);
      if (result.length < 50) break;
    }
  }
  const median = (samples) => statistics(samples).p50;
  const summary = (label, pages) => {
    const medians = pages.map(median);
    const first = statistics(medians.slice(0, 5)).p50;
    const last = statistics(medians.slice(-5)).p50;
    return (
      `${label}: ${pages.length} pages of 50; first 5 pages ${us(first)}, last 5 pages ${us(last)} ` +
      `(median of ${passes} passes) = ${(last / first).toFixed(2)}x, ${last >= first ? '+' : ''}${us(last - first)}`
    );
  };
  const cursor = summary('cursor paging (getSessionsPage)', byCursor);
  const offset = summary('offset paging (getSessions)   ', byOffset);
  const flat = median(byCursor.slice(-5).flat()) / median(byCursor.slice(0, 5).flat());
  return [cursor, `${offset}`, `  cursor stays flat (last / first ≤ 2x): ${flat <= 2 ? 'ok' : 'MISSED'}`];
}

/**
 * How long the upgrade to schema version 4 takes on the large file: a copy is taken back to version 3 (the
 * search and filter objects dropped), then opened by the store, which migrates it.
 */
async function upgradeBench(path) {
  const copy = join(DIR, `upgrade-${process.pid}.db`);
  copyFileSync(path, copy);
  try {
    const db = new Database(copy);
    for (const trigger of [
      'sessions_terms_insert',
      'sessions_terms_delete',
      'sessions_terms_update',
      'messages_fts_insert',
      'messages_fts_delete',
      'messages_fts_update',
      'messages_activity_insert',
      'messages_activity_delete',
      'messages_activity_update',
    ]) {
      db.exec(`DROP TRIGGER ${trigger}`);
    }
    for (const table of ['session_metadata_terms', 'messages_fts', 'messages_fts_trigram'])
      db.exec(`DROP TABLE ${table}`);
    for (const index of ['idx_sessions_created', 'idx_sessions_owner_created'])
      db.exec(`DROP INDEX ${index}`);
    // Back to version 3: versions 4 and 5 (their objects dropped above) are applied again by the store.
    db.prepare("DELETE FROM kysely_migration WHERE name >= '0004'").run();
    db.close();
    const store = new SqliteConversationMemory({ filename: copy });
    const started = performance.now();
    await store.init();
    const seconds = (performance.now() - started) / 1000;
    const found = (await store.searchMessages(RARE_WORD)).items.length;
    await store.close();
    return `upgrade of the ${LARGE.toLocaleString('en')}-message file from version 3 to the latest (4 and 5): ${seconds.toFixed(1)} s, then '${RARE_WORD}' finds ${found} (first page)`;
  } finally {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${copy}${suffix}`, { force: true });
  }
}

try {
  await main();
} finally {
  if (OWN_DIR) rmSync(DIR, { recursive: true, force: true });
}
