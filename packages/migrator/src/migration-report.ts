import type { SessionMismatch } from './row-digest.js';
import type { InvalidReason, OnInvalid, RowAction, RowProblem } from './row-rules.js';

/** What happened to one table's rows. */
export interface TableReport {
  /** Rows read from the source. */
  read: number;
  /** Rows written to the target by this run (for sessions, recovered sessions included). */
  written: number;
  /** Rows whose id the target held already: skipped, never overwritten. */
  alreadyPresent: number;
  /** Rows not written because they are invalid (`skip`, or `repair` when no rule fixes them; under `fail`, every invalid row). */
  rejected: number;
  /** Rows written with a `repair` rule applied. */
  repaired: number;
}

/** One invalid row as listed in the report. */
export interface InvalidRowReport {
  table: 'sessions' | 'messages';
  /** Source position: SQLite rowid, or PostgreSQL `seq` for messages. */
  key: number;
  /** The row's id as stored (`null` when missing or not text). */
  id: string | null;
  /** What became of it. */
  action: RowAction;
  problems: RowProblem[];
}

/** Result of comparing the target with the source. */
export interface VerificationReport {
  /** `skipped` in a dry run. */
  status: 'passed' | 'failed' | 'skipped';
  /** Sessions compared (every session the source has, after the rules, recovered ones included). */
  sessions: number;
  /** Messages compared. */
  messages: number;
  /** Sessions that differ. */
  mismatchCount: number;
  /** The first {@link REPORT_LIST_LIMIT} of them, each with what differs. */
  mismatches: SessionMismatch[];
  /** Time spent, in ms. */
  durationMs: number;
}

/** Most rows and sessions listed in a report; the counts are always complete and the rejects file holds every row. */
export const REPORT_LIST_LIMIT = 1000;

/** What a migration, a dry run or a verification did. Never holds a password. */
export interface MigrationReport {
  direction: 'sqlite-to-postgres' | 'postgres-to-sqlite';
  /** `migrate`, `dry-run` (scan and count, nothing written) or `verify-only` (compare, nothing written). */
  mode: 'migrate' | 'dry-run' | 'verify-only';
  source: { backend: 'sqlite' | 'postgres'; location: string; schemaVersion: number };
  target: {
    backend: 'sqlite' | 'postgres';
    location: string;
    /** Schema version of the target (after setup); `null` when it has no tables. */
    schemaVersion: number | null;
    /** Whether the target was empty when the run began. */
    emptyAtStart: boolean;
    /** `bulk` (empty target: one transaction, keys and indexes built after), `merge` (batches, rows present skipped), `none`. */
    load: 'bulk' | 'merge' | 'none';
  };
  onInvalid: OnInvalid;
  batchSize: number;
  tables: { sessions: TableReport; messages: TableReport };
  /** Sessions created by `repair` for messages whose session was gone. */
  recoveredSessions: number;
  invalid: {
    /** Invalid rows found (rejected, repaired and kept). */
    count: number;
    byReason: Partial<Record<InvalidReason, number>>;
    /** The first {@link REPORT_LIST_LIMIT} invalid rows. */
    rows: InvalidRowReport[];
    /** The JSON Lines file holding every invalid row with its original values, when one was written. */
    rejectsFile: string | null;
  };
  verification: VerificationReport;
  /** Wall time of the run, in ms, and of each step. */
  durationMs: number;
  phases: { name: string; durationMs: number }[];
  /** Source rows read per second over the whole run. */
  rowsPerSecond: number;
  /** True when nothing is left to do: no invalid row under `fail`, and verification passed (or was skipped). */
  ok: boolean;
  /** One line saying what happened. */
  summary: string;
}

const number = (n: number) => n.toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

/** The report as text for people: what moved, what was wrong, whether the target matches. */
export function formatReport(report: MigrationReport): string {
  const lines: string[] = [];
  const arrow = report.direction === 'sqlite-to-postgres' ? 'SQLite -> PostgreSQL' : 'PostgreSQL -> SQLite';
  const mode = report.mode === 'migrate' ? '' : ` (${report.mode})`;
  lines.push(`flux-memory migrate: ${arrow}${mode}`);
  lines.push(`  source  ${report.source.location} (schema version ${report.source.schemaVersion})`);
  const t = report.target;
  const state = t.emptyAtStart ? 'empty' : 'not empty';
  const load = t.load === 'none' ? '' : `, ${t.load === 'bulk' ? 'bulk load' : 'merge'}`;
  lines.push(`  target  ${t.location} (${state}${load})`);
  lines.push('');
  const head = ['table', 'read', 'written', 'already there', 'rejected', 'repaired'];
  const rows = (['sessions', 'messages'] as const).map((name) => {
    const r = report.tables[name];
    return [name, r.read, r.written, r.alreadyPresent, r.rejected, r.repaired].map((v) =>
      typeof v === 'number' ? number(v) : v,
    );
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const row = (cells: (string | number)[]) =>
    `  ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  ')}`;
  lines.push(row(head), ...rows.map(row));
  if (report.recoveredSessions > 0) {
    lines.push(`  (${number(report.recoveredSessions)} recovered sessions written for orphan messages)`);
  }
  if (report.invalid.count > 0) {
    lines.push('');
    lines.push(`invalid rows: ${number(report.invalid.count)} (--on-invalid ${report.onInvalid})`);
    for (const [reason, n] of Object.entries(report.invalid.byReason))
      lines.push(`  ${reason}: ${number(n!)}`);
    for (const r of report.invalid.rows) {
      const what = r.problems.map(
        (p) => `${p.reason} (${p.detail}${r.action === 'repaired' && p.repair ? `; ${p.repair}` : ''})`,
      );
      lines.push(`  ${r.table} ${r.id === null ? `rowid ${r.key}` : r.id}: ${r.action}: ${what.join(', ')}`);
    }
    if (report.invalid.rows.length < report.invalid.count) {
      lines.push(`  ... and ${number(report.invalid.count - report.invalid.rows.length)} more`);
    }
    if (report.invalid.rejectsFile)
      lines.push(`  every invalid row, with its original values: ${report.invalid.rejectsFile}`);
  }
  lines.push('');
  const v = report.verification;
  if (v.status === 'skipped') lines.push('verification: skipped');
  else {
    lines.push(
      `verification: ${v.status} (${number(v.sessions)} sessions, ${number(v.messages)} messages: counts and checksums, ${seconds(v.durationMs)})`,
    );
    for (const m of v.mismatches) lines.push(`  session ${m.sessionId}: ${m.problems.join('; ')}`);
    if (v.mismatches.length < v.mismatchCount)
      lines.push(`  ... and ${number(v.mismatchCount - v.mismatches.length)} more`);
  }
  const phases = report.phases.map((p) => `${p.name} ${seconds(p.durationMs)}`).join(', ');
  lines.push(
    `time: ${seconds(report.durationMs)}, ${number(Math.round(report.rowsPerSecond))} rows/s (${phases})`,
  );
  lines.push(report.summary);
  return `${lines.join('\n')}\n`;
}
