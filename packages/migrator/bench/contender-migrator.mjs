import { migrateSqliteToPostgres } from '../dist/index.js';

const report = await migrateSqliteToPostgres({
  sqlitePath: process.env.BENCH_FILE,
  postgresDsn: process.env.BENCH_URL,
  schema: process.env.BENCH_SCHEMA,
  // The default, spelled out: under `fail` every row is validated in a pass of its own before the target is
  // opened for writing (phase `validate`), and that pass is part of the time measured.
  onInvalid: 'fail',
  ...(process.env.BENCH_BATCH ? { batchSize: Number(process.env.BENCH_BATCH) } : {}),
});
if (!report.ok) throw new Error(report.summary);
const phases = report.phases.map((p) => `${p.name} ${(p.durationMs / 1000).toFixed(1)}s`).join(', ');
const usage = process.resourceUsage();
const cpu = `${((usage.userCPUTime + usage.systemCPUTime) / 1e6).toFixed(1)} s`;
console.log(JSON.stringify({ rssMb: usage.maxRSS >> 10, cpu, note: `(${phases}; ${report.summary})` }));
