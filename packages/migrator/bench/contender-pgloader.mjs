// pgloader (Debian package) on the same file, into a database of its own: its defaults create the tables,
// copy, then build the indexes. Only the pgloader run is timed.
import { spawnSync } from 'node:child_process';

const server = new URL(process.env.BENCH_URL);
const admin = (sql) => {
  const run = spawnSync('psql', ['-X', '-q', '-c', sql, server.toString()], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
};
admin('DROP DATABASE IF EXISTS bench_pgloader');
admin('CREATE DATABASE bench_pgloader');
const target = new URL(server);
target.pathname = '/bench_pgloader';
const start = performance.now();
const run = spawnSync(
  'pgloader',
  ['--quiet', '--dynamic-space-size', '4096', `sqlite://${process.env.BENCH_FILE}`, target.toString()],
  {
    encoding: 'utf8',
  },
);
const seconds = (performance.now() - start) / 1000;
if (run.status !== 0) throw new Error(run.stderr || run.stdout);
const check = spawnSync('psql', ['-X', '-At', '-c', 'SELECT count(*) FROM messages', target.toString()], {
  encoding: 'utf8',
});
admin('DROP DATABASE IF EXISTS bench_pgloader');
console.log(
  JSON.stringify({ seconds, rssMb: null, note: `(${check.stdout.trim()} messages; pgloader's own casts)` }),
);
