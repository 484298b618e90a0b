import type { IsoMicros } from '@flux-rag/memory-core';
import type { MigrationReport, TableReport } from './migration-report.js';
import { REPORT_LIST_LIMIT } from './migration-report.js';
import type { MigrationSource, PageLimits } from './migration-source.js';
import type { MigrationTarget, SessionWithCounts } from './migration-target.js';
import { RejectsFile } from './rejects-file.js';
import { compareSession, DigestSet, md5Hex } from './row-digest.js';
import {
  type InvalidReason,
  type Judgement,
  judgeMessage,
  judgeSession,
  type MessageRow,
  type OnInvalid,
  type RawMessage,
  type RawSession,
  RECOVERED_METADATA,
  RECOVERED_TITLE,
  type RowProblem,
  type RuleContext,
  type SessionRow,
} from './row-rules.js';
import { createTimestampReader } from './source-timezone.js';

/** A step of a run, for progress display. */
export interface MigrationProgress {
  /** `sessions`, `messages` (scan, copy or both), `indexes`, `verify`. */
  phase: 'sessions' | 'messages' | 'indexes' | 'verify';
  /** What is happening, for people (`scan`, `copy`, `check`, an index name...). */
  step: string;
  /** Units done and total (rows, or sessions while verifying; 0 of 0 when unknown). */
  done: number;
  total: number;
}

/** Everything a run needs, sources and targets already chosen. */
export interface EngineOptions {
  direction: MigrationReport['direction'];
  mode: MigrationReport['mode'];
  source: MigrationSource;
  /** Opens the target; `setup` false for runs that write nothing. */
  openTarget: (setup: boolean) => Promise<MigrationTarget>;
  onInvalid: OnInvalid;
  batchSize: number;
  maxContentBytes: number;
  sourceTimezone: string;
  rejectsPath: string | null;
  onProgress?: (progress: MigrationProgress) => void;
}

const PAGE_BYTES = 1024 * 1024;
/** Messages read back from the target per verification query. */
const VERIFY_MESSAGES = 5_000;

interface Recovered {
  first: IsoMicros;
  last: IsoMicros;
}

/** Runs a migration, a dry run or a verification; see `migrateSqliteToPostgres` for the guarantees. */
export async function runMigration(options: EngineOptions): Promise<MigrationReport> {
  return new Run(options).execute();
}

class Run {
  readonly #o: EngineOptions;
  readonly #ctx: RuleContext;
  readonly #rejected = new Set<string>();
  readonly #expected = new DigestSet();
  readonly #recovered = new Map<string, Recovered>();
  readonly #limits: PageLimits;
  readonly #started = performance.now();
  readonly #phases: { name: string; durationMs: number }[] = [];
  readonly #rejects: RejectsFile | undefined;
  readonly #tables: { sessions: TableReport; messages: TableReport } = {
    sessions: { read: 0, written: 0, alreadyPresent: 0, rejected: 0, repaired: 0 },
    messages: { read: 0, written: 0, alreadyPresent: 0, rejected: 0, repaired: 0 },
  };
  readonly #invalid: MigrationReport['invalid'];
  #total = { sessions: 0, messages: 0 };

  constructor(options: EngineOptions) {
    this.#o = options;
    this.#ctx = {
      onInvalid: options.onInvalid,
      readTimestamp: createTimestampReader(options.sourceTimezone),
      maxContentBytes: options.maxContentBytes,
      rejectedSessions: this.#rejected,
    };
    this.#limits = { rows: options.batchSize, bytes: PAGE_BYTES };
    this.#rejects = options.rejectsPath ? new RejectsFile(options.rejectsPath) : undefined;
    this.#invalid = { count: 0, byReason: {}, rows: [], rejectsFile: null };
  }

  async #phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.#phases.push({ name, durationMs: performance.now() - start });
    }
  }

  #progress(phase: MigrationProgress['phase'], step: string, done: number, total: number) {
    this.#o.onProgress?.({ phase, step, done, total });
  }

  async execute(): Promise<MigrationReport> {
    const { source, mode } = this.#o;
    const writes = mode === 'migrate';
    this.#total = await source.count();
    if (writes && this.#o.onInvalid === 'fail') {
      // Under `fail` one invalid row means nothing is written, not even the target's schema and tables: every
      // row is judged in a pass of its own before the target is opened for writing. (The passes below judge
      // again; a row that turned invalid in between still stops the run before anything is committed.)
      const check = new Run(this.#o);
      check.#total = this.#total;
      await this.#phase('validate', () => check.#validate());
      if (check.#blocked()) {
        check.#phases.push(...this.#phases);
        return check.#blockedReport();
      }
    }
    const target = await this.#o.openTarget(writes);
    try {
      const emptyAtStart = await target.isEmpty();
      let load: MigrationReport['target']['load'] = 'none';
      let verification: MigrationReport['verification'] = skippedVerification();
      // Only a dry run asks the target which ids it holds while scanning: a migration into a non-empty
      // target compares digests first (a re-run after success ends there) and probes while it writes.
      const probe = mode === 'dry-run';
      let bulk = false;
      if (writes && emptyAtStart) bulk = await target.beginBulk();
      try {
        await this.#phase('sessions scan', () => this.#scanSessions(probe ? target : undefined));
        if (bulk) {
          load = 'bulk';
          await this.#phase('messages load', () => this.#loadMessages(target));
          if (this.#blocked()) await target.abortBulk();
          else {
            await this.#phase('sessions load', () => this.#loadSessions(target));
            await this.#phase('keys and indexes', () =>
              target.finishBulk((step) => this.#progress('indexes', step, 0, 0)),
            );
          }
          bulk = false;
        } else {
          await this.#phase('messages scan', () => this.#scanMessages(probe ? target : undefined));
          if (writes && !this.#blocked()) {
            load = 'merge';
            const before = await this.#verify(target);
            if (before.status === 'passed') {
              // Every source row is there, equal: nothing to write (the re-run after success).
              const { sessions, messages } = this.#tables;
              sessions.alreadyPresent = sessions.read - sessions.rejected + this.#recovered.size;
              messages.alreadyPresent = messages.read - messages.rejected;
              verification = before;
            } else {
              this.#phases.push({ name: 'compare', durationMs: before.durationMs });
              await this.#phase('merge', () => this.#merge(target));
            }
          }
        }
      } finally {
        if (bulk) await target.abortBulk();
      }
      if (mode !== 'dry-run' && !this.#blocked() && verification.status === 'skipped') {
        verification = await this.#verify(target);
      }
      return this.#report(target, emptyAtStart, load, verification);
    } finally {
      this.#rejects?.close();
      await target.close();
      await source.close();
    }
  }

  /** Judges every session and message of the source, as the scans do, without a target. */
  async #validate(): Promise<void> {
    await this.#scanSessions(undefined);
    await this.#scanMessages(undefined);
  }

  /**
   * The report of a run that validation stopped: the target opened without setup (nothing created) only to
   * describe it.
   */
  async #blockedReport(): Promise<MigrationReport> {
    const target = await this.#o.openTarget(false);
    try {
      return this.#report(target, await target.isEmpty(), 'none', skippedVerification());
    } finally {
      this.#rejects?.close();
      await target.close();
      await this.#o.source.close();
    }
  }

  /** Under `fail`, any invalid row stops the run before anything is committed. */
  #blocked(): boolean {
    return this.#o.onInvalid === 'fail' && this.#invalid.count > 0;
  }

  #note(table: 'sessions' | 'messages', raw: RawSession | RawMessage, j: Judgement<unknown>): void {
    if (j.action === 'ok') return;
    const stats = this.#tables[table];
    if (j.action === 'rejected') stats.rejected++;
    else if (j.action === 'repaired') stats.repaired++;
    this.#invalid.count++;
    for (const reason of new Set(j.problems.map((p: RowProblem) => p.reason))) {
      this.#invalid.byReason[reason as InvalidReason] =
        (this.#invalid.byReason[reason as InvalidReason] ?? 0) + 1;
    }
    if (this.#invalid.rows.length < REPORT_LIST_LIMIT) {
      this.#invalid.rows.push({
        table,
        key: raw.key,
        id: typeof raw.id === 'string' ? raw.id : null,
        action: j.action,
        problems: j.problems,
      });
    }
    if (this.#rejects) {
      const { key, contentUtf8, ...row } = raw as unknown as Record<string, unknown> & {
        key: number;
        contentUtf8?: Buffer;
      };
      // Text content read as bytes is shown as text (blobs stay base64).
      if (contentUtf8) row.content = contentUtf8.toString('utf8');
      this.#rejects.write({ table, key, action: j.action, problems: j.problems, row });
      this.#invalid.rejectsFile = this.#rejects.path;
    }
  }

  #judgeSessions(page: RawSession[], count: boolean): SessionRow[] {
    const rows: SessionRow[] = [];
    for (const raw of page) {
      const j = judgeSession(raw, this.#ctx);
      if (count) {
        this.#tables.sessions.read++;
        this.#note('sessions', raw, j);
      }
      if (j.row) rows.push(j.row);
      else if (typeof raw.id === 'string') this.#rejected.add(raw.id);
    }
    return rows;
  }

  #judgeMessages(page: RawMessage[], count: boolean): MessageRow[] {
    const rows: MessageRow[] = [];
    for (const raw of page) {
      const j = judgeMessage(raw, this.#ctx);
      if (count) {
        this.#tables.messages.read++;
        this.#note('messages', raw, j);
      }
      if (!j.row) continue;
      rows.push(j.row);
      if (count) {
        const row = j.row;
        this.#expected.addMessage({
          sessionId: row.sessionId,
          id: row.id,
          role: row.role,
          createdAt: row.createdAt,
          contentMd5: md5Hex(row.content),
          metadata: row.metadata,
          payloadMd5: row.payload === null ? null : md5Hex(row.payload),
          format: row.format,
          digest: row.digest,
        });
        if (!raw.sessionFound) this.#recover(j.row);
      }
    }
    return rows;
  }

  #recover(row: MessageRow): void {
    const known = this.#recovered.get(row.sessionId);
    if (!known) this.#recovered.set(row.sessionId, { first: row.createdAt, last: row.createdAt });
    else {
      if (row.createdAt < known.first) known.first = row.createdAt;
      if (row.createdAt > known.last) known.last = row.createdAt;
    }
  }

  /**
   * Judges every session (so messages of rejected ones are known), records digests, and counts those the
   * target holds when one is given to probe.
   */
  async #scanSessions(probe: MigrationTarget | undefined): Promise<void> {
    for await (const page of this.#o.source.sessions(this.#limits)) {
      const rows = this.#judgeSessions(page, true);
      for (const row of rows) this.#expected.addSession(row);
      if (probe)
        this.#tables.sessions.alreadyPresent += (await probe.presentSessions(rows.map((r) => r.id))).size;
      this.#progress('sessions', 'scan', this.#tables.sessions.read, this.#total.sessions);
    }
  }

  /** Judges every message and records its digest; counts those the target holds when one is given to probe. */
  async #scanMessages(probe: MigrationTarget | undefined): Promise<void> {
    // The target answers the probe of one page while the next page is read and judged.
    let pending: Promise<Set<string>> | undefined;
    for await (const page of this.#o.source.messages(this.#limits)) {
      const rows = this.#judgeMessages(page, true);
      if (pending) this.#tables.messages.alreadyPresent += (await pending).size;
      pending = probe?.presentMessages(rows.map((r) => r.id));
      this.#progress('messages', 'scan', this.#tables.messages.read, this.#total.messages);
    }
    if (pending) this.#tables.messages.alreadyPresent += (await pending).size;
    this.#addRecoveredDigests();
    if (probe && this.#recovered.size > 0) {
      this.#tables.sessions.alreadyPresent += (await probe.presentSessions([...this.#recovered.keys()])).size;
    }
  }

  #recoveredRows(): SessionRow[] {
    return [...this.#recovered].map(([id, r]) => ({
      id,
      title: RECOVERED_TITLE,
      createdAt: r.first,
      updatedAt: r.last,
      metadataText: JSON.stringify(RECOVERED_METADATA),
      metadata: { ...RECOVERED_METADATA },
      ownerId: null,
    }));
  }

  #addRecoveredDigests(): void {
    for (const row of this.#recoveredRows()) this.#expected.addSession(row);
  }

  /** Bulk path: messages judged and streamed into the bare table in one pass. */
  async #loadMessages(target: MigrationTarget): Promise<void> {
    let writing = true;
    for await (const page of this.#o.source.messages(this.#limits)) {
      const rows = this.#judgeMessages(page, true);
      if (this.#blocked()) {
        // Under `fail` the load is abandoned (rolled back) but the scan goes on: every invalid row is reported.
        writing = false;
      } else if (writing) {
        await target.bulkMessages(rows);
        this.#tables.messages.written += rows.length;
      }
      this.#progress('messages', writing ? 'copy' : 'scan', this.#tables.messages.read, this.#total.messages);
    }
    if (!writing) this.#tables.messages.written = 0;
    this.#addRecoveredDigests();
  }

  /** Bulk path: sessions after their messages, so each row carries its final counters. */
  async #loadSessions(target: MigrationTarget): Promise<void> {
    const withCounts = (row: SessionRow): SessionWithCounts => {
      const digest = this.#expected.get(row.id);
      return { ...row, messageCount: digest?.count ?? 0, lastMessageAt: digest?.lastMessageAt ?? null };
    };
    let done = 0;
    for await (const page of this.#o.source.sessions(this.#limits)) {
      const rows = this.#judgeSessions(page, false).map(withCounts);
      await target.bulkSessions(rows);
      this.#tables.sessions.written += rows.length;
      done += page.length;
      this.#progress('sessions', 'copy', done, this.#total.sessions);
    }
    const recovered = this.#recoveredRows().map(withCounts);
    await target.bulkSessions(recovered);
    this.#tables.sessions.written += recovered.length;
  }

  /**
   * Merge path, for a target that holds rows already: a second pass writes, batch by batch, the rows whose id
   * the target lacks. Skipped entirely when the scan found every row present (a re-run after success).
   */
  async #merge(target: MigrationTarget): Promise<void> {
    const sessions = this.#tables.sessions;
    const messages = this.#tables.messages;
    const writeSessions = async (rows: SessionRow[]) => {
      const present = await target.presentSessions(rows.map((r) => r.id));
      const missing = rows.filter((r) => !present.has(r.id));
      const written = await target.mergeSessions(missing);
      sessions.written += written;
      sessions.alreadyPresent += rows.length - written;
    };
    let done = 0;
    for await (const page of this.#o.source.sessions(this.#limits)) {
      await writeSessions(this.#judgeSessions(page, false));
      done += page.length;
      this.#progress('sessions', 'copy', done, this.#total.sessions);
    }
    await writeSessions(this.#recoveredRows());
    // Merged messages draw seq from the target's identity: it must first stand past every seq already there.
    await target.fixSequence();
    done = 0;
    for await (const page of this.#o.source.messages(this.#limits)) {
      const rows = this.#judgeMessages(page, false);
      const present = await target.presentMessages(rows.map((r) => r.id));
      const written = await target.mergeMessages(rows.filter((r) => !present.has(r.id)));
      messages.written += written;
      messages.alreadyPresent += rows.length - written;
      done += page.length;
      this.#progress('messages', 'copy', done, this.#total.messages);
    }
    await target.fixSequence();
  }

  /** Compares every expected session with what the target holds, a bounded number of rows at a time. */
  async #verify(target: MigrationTarget): Promise<MigrationReport['verification']> {
    const start = performance.now();
    const ids = this.#expected.sortedIds();
    const mismatches: MigrationReport['verification']['mismatches'] = [];
    let mismatchCount = 0;
    let done = 0;
    // A target holding about the source's sessions is read in one sequential scan; a much larger one (a
    // production database the file was merged into) only for the sessions of the source, by index.
    const held = await target.count();
    if (held.sessions <= Math.max(1000, ids.length * 2)) {
      this.#progress('verify', 'read', 0, ids.length);
      const actual = await target.digests('all');
      for (const id of ids) {
        const problems = compareSession(this.#expected.get(id)!, actual.get(id));
        if (problems.length === 0) continue;
        mismatchCount++;
        if (mismatches.length < REPORT_LIST_LIMIT) mismatches.push({ sessionId: id, problems });
      }
      this.#progress('verify', 'check', ids.length, ids.length);
      return {
        status: mismatchCount === 0 ? 'passed' : 'failed',
        sessions: ids.length,
        messages: this.#expected.messageCount(),
        mismatchCount,
        mismatches,
        durationMs: performance.now() - start,
      };
    }
    let i = 0;
    const nextBatch = (): string[] => {
      const batch: string[] = [];
      let messages = 0;
      while (i < ids.length && batch.length < 1000 && (batch.length === 0 || messages < VERIFY_MESSAGES)) {
        const id = ids[i++]!;
        batch.push(id);
        messages += this.#expected.get(id)!.count;
      }
      return batch;
    };
    // The target reads one batch while the one before is compared.
    let batch = nextBatch();
    let pending = batch.length > 0 ? target.digests(batch) : undefined;
    while (pending) {
      const actual = await pending;
      const current = batch;
      batch = nextBatch();
      pending = batch.length > 0 ? target.digests(batch) : undefined;
      for (const id of current) {
        const problems = compareSession(this.#expected.get(id)!, actual.get(id));
        if (problems.length === 0) continue;
        mismatchCount++;
        if (mismatches.length < REPORT_LIST_LIMIT) mismatches.push({ sessionId: id, problems });
      }
      done += current.length;
      this.#progress('verify', 'check', done, ids.length);
    }
    return {
      status: mismatchCount === 0 ? 'passed' : 'failed',
      sessions: ids.length,
      messages: this.#expected.messageCount(),
      mismatchCount,
      mismatches,
      durationMs: performance.now() - start,
    };
  }

  #report(
    target: MigrationTarget,
    emptyAtStart: boolean,
    load: MigrationReport['target']['load'],
    verification: MigrationReport['verification'],
  ): MigrationReport {
    const { source, mode, onInvalid } = this.#o;
    const durationMs = performance.now() - this.#started;
    this.#phases.push({ name: 'verify', durationMs: verification.durationMs });
    const { sessions, messages } = this.#tables;
    const blocked = this.#blocked();
    if (blocked) {
      sessions.written = 0;
      messages.written = 0;
    }
    const ok = !blocked && verification.status !== 'failed';
    const rowsRead = sessions.read + messages.read;
    return {
      direction: this.#o.direction,
      mode,
      source: { backend: source.backend, location: source.location, schemaVersion: source.schemaVersion },
      target: {
        backend: target.backend,
        location: target.location,
        schemaVersion: target.schemaVersion,
        emptyAtStart,
        load,
      },
      onInvalid,
      batchSize: this.#o.batchSize,
      tables: this.#tables,
      recoveredSessions: this.#recovered.size,
      invalid: this.#invalid,
      verification,
      durationMs,
      phases: this.#phases.filter((p) => p.durationMs > 0),
      rowsPerSecond: durationMs > 0 ? rowsRead / (durationMs / 1000) : 0,
      ok,
      summary: summarize(mode, onInvalid, blocked, this.#invalid.count, sessions, messages, verification),
    };
  }
}

function summarize(
  mode: MigrationReport['mode'],
  onInvalid: OnInvalid,
  blocked: boolean,
  invalid: number,
  sessions: TableReport,
  messages: TableReport,
  verification: MigrationReport['verification'],
): string {
  const n = (x: number) => x.toLocaleString('en-US');
  if (blocked) {
    return `FAILED: ${n(invalid)} invalid rows, nothing written (--on-invalid ${onInvalid}); use --on-invalid skip or repair`;
  }
  const verified =
    verification.status === 'passed'
      ? 'verification passed'
      : verification.status === 'failed'
        ? `FAILED: verification found ${n(verification.mismatchCount)} sessions that differ`
        : 'verification skipped';
  if (mode === 'dry-run') {
    const toWrite =
      sessions.read -
      sessions.rejected -
      sessions.alreadyPresent +
      (messages.read - messages.rejected - messages.alreadyPresent);
    return `dry run: nothing written; ${n(Math.max(0, toWrite))} rows would be written, ${n(sessions.alreadyPresent + messages.alreadyPresent)} are already there, ${n(invalid)} invalid`;
  }
  if (mode === 'verify-only') return verified;
  const written = sessions.written + messages.written;
  if (written === 0) return `wrote 0 rows: the target already holds every source row; ${verified}`;
  return `wrote ${n(sessions.written)} sessions and ${n(messages.written)} messages; ${verified}`;
}

/** The verification part of a report when no verification ran. */
function skippedVerification(): MigrationReport['verification'] {
  return { status: 'skipped', sessions: 0, messages: 0, mismatchCount: 0, mismatches: [], durationMs: 0 };
}
