import { migrateSqliteToPostgres } from '../dist/index.js';

const report = await migrateSqliteToPostgres({
  sqlitePath: process.env.BENCH_FILE,
  postgresDsn: process.env.BENCH_URL,
  schema: process.env.BENCH_SCHEMA,
  ...(process.env.BENCH_BATCH ? { batchSize: Number(process.env.BENCH_BATCH) } : {}),
});
if (!report.ok) throw new Error(report.summary);
const phases = report.phases.map((p) => `${p.name} ${(p.durationMs / 1000).toFixed(1)}s`).join(', ');
console.log(
  JSON.stringify({ rssMb: process.resourceUsage().maxRSS >> 10, note: `(${phases}; ${report.summary})` }),
);
