import { spawnSync } from 'node:child_process';

const url = new URL(process.env.BENCH_URL);
url.searchParams.set('options', `-c search_path=${process.env.BENCH_SCHEMA}`);
const run = spawnSync('pgloader', ['--quiet', `sqlite://${process.env.BENCH_FILE}`, url.toString()], {
  encoding: 'utf8',
});
if (run.status !== 0) throw new Error(run.stderr || run.stdout);
console.log(JSON.stringify({ rssMb: null, note: '(every column as text)' }));
