import { createWriteStream, rmSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  type ImportResult,
  type PortableRecord,
  SessionNotFoundError,
  ValidationError,
} from '@flux-rag/memory-core';
import { RECOVERED_METADATA, RECOVERED_TITLE } from '@flux-rag/migrator';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { describeConnection } from '../config.js';
import { whileRunning } from '../interrupt.js';
import { openExportRaw } from '../jsonl.js';
import { plural, printJson, println } from '../output.js';
import { createProgress, formatCount } from '../progress.js';
import { type OnInvalid, RecordRules, type RejectedRecord } from '../record-rules.js';
import { rejectsFile } from '../rejects-file.js';
import { visible } from '../sanitize.js';
import { connectionFrom, isMissingStore, withStore } from '../store.js';
import { addOnInvalidOptions } from './export.js';
import {
  addConnectionOptions,
  addJsonOption,
  addOwnerOption,
  type DataCommandOptions,
  integer,
} from './options.js';

interface ImportOptions extends DataCommandOptions {
  batchSize: number;
  onInvalid: OnInvalid;
  rejects?: string;
}

/** What the checking pass learnt about the file. */
interface Checked {
  /** Records to write (repaired ones included). */
  records: number;
  /** Records refused under `fail`. */
  refused: { rejected: RejectedRecord; error: string }[];
  /** Sessions messages name that are neither earlier in the file nor refused: stored, or missing. */
  outside: Map<string, number>;
}

/** `flux-memory import FILE`: writes an export file's records; records already present are skipped. */
export function registerImportCommand(program: Command): void {
  const command = program
    .command('import')
    .description(
      'write the sessions and messages of an export file, checked whole first; ids already stored are skipped',
    )
    .argument('<file>', 'a file written by flux-memory export, or - for stdin')
    .option('--batch-size <n>', 'records written per transaction, 1 to 10000', integer(1, 10_000), 500);
  addOnInvalidOptions(command, 'imported', '<file>.rejects.jsonl, or import.rejects.jsonl for stdin');
  addOwnerOption(command);
  addJsonOption(addConnectionOptions(command)).action(async (file: string, options: ImportOptions) => {
    const fromStdin = file === '-';
    if (!fromStdin && /\.(db|sqlite3?)$/i.test(file)) await refuseDatabaseFile(file);
    // stdin is read twice (checked, then written): it is kept in a temporary file meanwhile.
    const spool = fromStdin ? await spoolStdin() : undefined;
    const path = spool?.path ?? file;
    try {
      const progress = createProgress();
      let checked: Checked;
      const checking = whileRunning({ outcome: 'nothing was written (it was checking the file)' });
      try {
        checked = await check(path, options, (n) => progress.update('import: checking records', n));
      } finally {
        progress.stop();
        checking();
      }
      if (checked.refused.length > 0) throw refusal(checked.refused);
      const name = fromStdin ? 'stdin' : file;
      const rejects = rejectsFile(
        options.rejects ?? (fromStdin ? 'import.rejects.jsonl' : `${file}.rejects.jsonl`),
      );
      // A store that does not exist yet holds none of the sessions the file's messages need: say so before
      // creating it.
      if (
        options.onInvalid === 'fail' &&
        checked.outside.size > 0 &&
        isMissingStore(connectionFrom(options))
      ) {
        throw new SessionNotFoundError([...checked.outside.keys()][0]!);
      }
      const { result, target, repaired } = await withStore(options, 'write', async ({ store, config }) => {
        progress.update(`import: opening ${describeConnection(config)}`, 0);
        const missing = new Set<string>();
        for (const id of checked.outside.keys()) if (!(await store.getSession(id))) missing.add(id);
        if (missing.size > 0 && options.onInvalid === 'fail') {
          throw new SessionNotFoundError([...missing][0]!);
        }
        const writing = whileRunning({
          outcome:
            'the batches committed so far stay; run the same import again to finish (records already ' +
            'stored are skipped)',
        });
        let repaired = 0;
        try {
          const records = writable(path, options, missing, {
            onReject: (r) => rejects.add(r),
            onRepair: () => repaired++,
            onCount: (n) => progress.update('import: records', n, checked.records),
          });
          const result: ImportResult = await store.importRecords(records, { batchSize: options.batchSize });
          return { result, target: describeConnection(config), repaired };
        } finally {
          progress.stop();
          writing();
        }
      });
      if (options.json) return printJson(result);
      const extra =
        (repaired > 0 ? `; ${formatCount(repaired)} repaired` : '') +
        (rejects.count > 0 ? `; ${plural(rejects.count, 'record')} skipped, listed in ${rejects.path}` : '');
      println(
        `Imported ${visible(name)} into ${target}: ` +
          `sessions ${formatCount(result.sessions.written)} written, ${formatCount(result.sessions.skipped)} skipped; ` +
          `messages ${formatCount(result.messages.written)} written, ${formatCount(result.messages.skipped)} skipped${extra}.`,
      );
    } finally {
      if (spool) await rm(spool.dir, { recursive: true, force: true });
    }
  });
}

/** Reads the whole file once, judging every record; nothing is opened or written. */
async function check(path: string, options: ImportOptions, onCount: (n: number) => void): Promise<Checked> {
  const rules = new RecordRules(options.onInvalid);
  const seen = new Set<string>();
  const checked: Checked = { records: 0, refused: [], outside: new Map() };
  let index = 0;
  await withEntries(path, async (entry) => {
    const i = index++;
    const verdict = rules.judge(entry.value, i, entry.line);
    onCount(index);
    if ('rejected' in verdict) {
      if (options.onInvalid === 'fail') {
        checked.refused.push({ rejected: verdict.rejected, error: verdict.rejected.reasons[0] ?? 'invalid' });
      }
      return;
    }
    const record = verdict.record;
    if (record.type === 'session') {
      const owner = record.ownerId ?? null;
      if (options.owner !== undefined && owner !== null && owner !== options.owner) {
        // The owner view would refuse it in its batch; refused here, the file is refused before any write.
        const error = new ValidationError(
          `records[${i}].ownerId`,
          'differs from the owner this store is scoped to',
        );
        checked.refused.push({
          rejected: {
            line: entry.line,
            type: 'session',
            id: record.id,
            reasons: [error.message],
            record: entry.value,
          },
          error: error.message,
        });
        return;
      }
      seen.add(record.id);
    } else if (!seen.has(record.sessionId) && !checked.outside.has(record.sessionId)) {
      checked.outside.set(record.sessionId, entry.line);
    }
    checked.records++;
  });
  return checked;
}

/** The records to write, judged again as they are read: rejects go to the file, recovered sessions are added. */
async function* writable(
  path: string,
  options: ImportOptions,
  missing: ReadonlySet<string>,
  on: { onReject(r: RejectedRecord): void; onRepair(): void; onCount(n: number): void },
): AsyncGenerator<PortableRecord> {
  const rules = new RecordRules(options.onInvalid);
  const recovered = new Set<string>();
  let index = 0;
  let written = 0;
  const handle = await openFile(path);
  try {
    const { entries } = await openExportRaw(handle.readLines({ encoding: 'utf8' }));
    for await (const entry of entries) {
      const verdict = rules.judge(entry.value, index++, entry.line);
      if ('rejected' in verdict) {
        on.onReject(verdict.rejected);
        continue;
      }
      const record = verdict.record;
      if (record.type === 'message' && missing.has(record.sessionId)) {
        if (options.onInvalid === 'skip') {
          on.onReject({
            line: entry.line,
            type: 'message',
            id: record.id,
            sessionId: record.sessionId,
            reasons: [`session_missing: no session ${JSON.stringify(record.sessionId)}`],
            record: entry.value,
          });
          continue;
        }
        if (!recovered.has(record.sessionId)) {
          // As migrate --on-invalid repair does for an orphan message: a recovered session, marked.
          recovered.add(record.sessionId);
          on.onRepair();
          yield {
            type: 'session',
            id: record.sessionId,
            title: RECOVERED_TITLE,
            createdAt: record.createdAt,
            updatedAt: record.createdAt,
            ownerId: null,
            metadata: RECOVERED_METADATA,
          };
        }
      }
      if (verdict.repairs.length > 0) on.onRepair();
      yield record;
      on.onCount(++written);
    }
  } finally {
    await handle.close();
  }
}

async function withEntries(
  path: string,
  each: (entry: { value: unknown; line: number }) => Promise<void> | void,
): Promise<void> {
  const handle = await openFile(path);
  try {
    const { entries } = await openExportRaw(handle.readLines({ encoding: 'utf8' }));
    for await (const entry of entries) await each(entry);
  } finally {
    await handle.close();
  }
}

function refusal(refused: Checked['refused']): CliError {
  const first = refused[0]!;
  const where = first.rejected.line === undefined ? '' : `line ${first.rejected.line}: `;
  const more =
    refused.length === 1
      ? ''
      : ` (and ${formatCount(refused.length - 1)} more invalid records, lines ${refused
          .slice(1, 6)
          .map((r) => r.rejected.line)
          .join(', ')}${refused.length > 6 ? ', …' : ''}); nothing imported: fix the file, or use ` +
        '--on-invalid skip or repair';
  return new CliError('VALIDATION_FAILED', `${where}${first.error}${more}`);
}

/** A SQLite database given to import: the command for that is migrate. */
async function refuseDatabaseFile(file: string): Promise<void> {
  let head: Buffer;
  try {
    const handle = await open(file, 'r');
    try {
      head = Buffer.alloc(16);
      await handle.read(head, 0, 16, 0);
    } finally {
      await handle.close();
    }
  } catch {
    return;
  }
  if (head.toString('latin1') === 'SQLite format 3\u0000') {
    throw new CliError(
      'IMPORT_FORMAT_INVALID',
      `${visible(file)} is a SQLite database, not an export: copy it with ` +
        `flux-memory migrate --from ${visible(file)} --to postgresql://USER@HOST/DB, or read it with --url ${visible(file)}`,
    );
  }
}

async function spoolStdin(): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'flux-memory-import-'));
  const path = join(dir, 'stdin.jsonl');
  const cleanup = whileRunning({
    outcome: 'nothing was written (it was reading stdin)',
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
  try {
    await pipeline(process.stdin, createWriteStream(path));
  } finally {
    cleanup();
  }
  return { dir, path };
}

async function openFile(file: string) {
  try {
    return await open(file, 'r');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CliError('FILE_ERROR', `cannot read ${visible(file)}: ${reason}`, { cause: error });
  }
}
