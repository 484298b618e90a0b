import { type PortableRecord, SessionNotFoundError, type StoreHealth } from '@flux-rag/memory-core';
import { type Command, Option } from 'commander';
import { CliError } from '../cli-error.js';
import { describeConnection, type ResolvedConnection } from '../config.js';
import { whileRunning } from '../interrupt.js';
import { headerLine, recordLine } from '../jsonl.js';
import { plural, printJson, println } from '../output.js';
import { createProgress } from '../progress.js';
import {
  invalidRecordsMessage,
  ON_INVALID_CHOICES,
  type OnInvalid,
  RecordRules,
  type RejectedRecord,
} from '../record-rules.js';
import { rejectsFile } from '../rejects-file.js';
import { fileSink, type Sink, stdoutSink } from '../sink.js';
import { withStore } from '../store.js';
import { addConnectionOptions, addJsonOption, addOwnerOption, type DataCommandOptions } from './options.js';

interface ExportOptions extends DataCommandOptions {
  session: string[];
  out?: string;
  onInvalid: OnInvalid;
  rejects?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Adds `--on-invalid` and `--rejects`, worded for `verb` (`exported`, `imported`). */
export function addOnInvalidOptions(command: Command, verb: string, rejectsDefault: string): Command {
  return command
    .addOption(
      new Option(
        '--on-invalid <rule>',
        `records the contract refuses: fail (default: name them, nothing ${verb}), skip (to the rejects ` +
          'file), or repair (as migrate repairs: U+0000 removed, bad metadata set to {}, …)',
      )
        .choices(ON_INVALID_CHOICES)
        .default('fail'),
    )
    .option('--rejects <file>', `JSON Lines file for records not ${verb} (default: ${rejectsDefault})`);
}

/** `flux-memory export`: the store's content as JSON Lines, to stdout or a file. */
export function registerExportCommand(program: Command): void {
  const command = program
    .command('export')
    .description('write sessions and their messages as JSON Lines (see README: export format)')
    .addOption(
      new Option('--session <id>', 'export only this session; repeat for several')
        .argParser(collect)
        .default([], 'every session'),
    )
    .option(
      '--out <file>',
      'write to this file instead of stdout (replaced only once the export is complete)',
    );
  addOnInvalidOptions(command, 'exported', '<out>.rejects.jsonl, or export.rejects.jsonl for stdout');
  addOwnerOption(command);
  addJsonOption(addConnectionOptions(command)).action(async (options: ExportOptions) => {
    await withStore(options, 'read', async ({ store, config }) => {
      const sessionIds = options.session.length > 0 ? [...new Set(options.session)] : undefined;
      // The contract ignores unknown ids; an id typed on the command line that matches nothing is a mistake.
      for (const id of sessionIds ?? []) {
        if (!(await store.getSession(id))) throw new SessionNotFoundError(id);
      }
      const toFile = options.out !== undefined && options.out !== '-';
      const records = () => store.exportRecords(sessionIds ? { sessionIds } : undefined);
      const progress = createProgress({ stdoutIsData: !toFile });
      // The first query opens the store, which upgrades a legacy file in place: that can take a while.
      progress.update(`export: opening ${describeConnection(config)}`, 0);
      // Orphan messages (legacy SQLite files only) belong to no session and no owner: only a whole export misses them.
      const whole = sessionIds === undefined && options.owner === undefined;
      const health = whole ? await store.check() : undefined;
      const total = totalOf(health);
      const orphans = health?.orphanMessages;
      // On stdout nothing can be taken back: under fail, a first pass proves every record valid before writing.
      if (options.onInvalid === 'fail' && !toFile) {
        const unregister = whileRunning({ outcome: 'nothing was written (it was checking the records)' });
        try {
          const rules = new RecordRules('fail');
          const refused: RejectedRecord[] = [];
          let index = 0;
          for await (const record of records()) {
            const verdict = rules.judge(record, index++);
            if ('rejected' in verdict) refused.push(verdict.rejected);
            progress.update('export: checking records', index, total);
          }
          if (refused.length > 0)
            throw new CliError('INVALID_RECORDS', invalidRecordsMessage(refused, 'exported'));
        } finally {
          progress.stop();
          unregister();
        }
      }
      const rules = new RecordRules(options.onInvalid);
      const rejects = rejectsFile(
        options.rejects ?? (toFile ? `${options.out}.rejects.jsonl` : 'export.rejects.jsonl'),
      );
      const sink: Sink = toFile ? await fileSink(options.out!) : stdoutSink();
      const unregister = whileRunning({
        outcome: toFile
          ? `no file written (${options.out} left as it was); run the export again`
          : 'the export on stdout is incomplete: discard it and run the export again',
        cleanup: () => sink.discardNow(),
      });
      const counts = { sessions: 0, messages: 0, repaired: 0 };
      const refused: RejectedRecord[] = [];
      try {
        await sink.write(headerLine(config.backend));
        let index = 0;
        for await (const record of records()) {
          const verdict = rules.judge(record, index++);
          progress.update('export: records', index, total);
          if ('rejected' in verdict) {
            if (options.onInvalid === 'fail') refused.push(verdict.rejected);
            else rejects.add(verdict.rejected);
            continue;
          }
          if (refused.length > 0) continue;
          await write(sink, verdict.record);
          if (verdict.repairs.length > 0) counts.repaired++;
          counts[verdict.record.type === 'session' ? 'sessions' : 'messages']++;
        }
        if (refused.length > 0)
          throw new CliError('INVALID_RECORDS', invalidRecordsMessage(refused, 'exported'));
        await sink.commit();
      } catch (error) {
        await sink.abort();
        throw error;
      } finally {
        progress.stop();
        unregister();
      }
      const what = `${plural(counts.sessions, 'session')}, ${plural(counts.messages, 'message')}`;
      const extra =
        (counts.repaired > 0 ? `; ${plural(counts.repaired, 'record')} repaired` : '') +
        (rejects.count > 0 ? `; ${plural(rejects.count, 'record')} skipped, listed in ${rejects.path}` : '');
      if (options.json) {
        const report = {
          sessions: counts.sessions,
          messages: counts.messages,
          repaired: counts.repaired,
          skipped: rejects.count,
          ...(rejects.count > 0 ? { rejects: rejects.path } : {}),
          ...(orphans === undefined ? {} : { orphanMessages: orphans }),
        };
        // On stdout the export itself is the output: the summary goes to stderr there.
        if (toFile) printJson(report);
        else process.stderr.write(`${JSON.stringify(report)}\n`);
        return;
      }
      const summary = `Exported ${what} from ${describeConnection(config)}`;
      if (toFile) println(`${summary} to ${options.out}${extra}.`);
      else if (process.stderr.isTTY || extra !== '') process.stderr.write(`${summary}${extra}.\n`);
      if (orphans !== undefined && orphans > 0) process.stderr.write(`${orphanWarning(orphans, config)}\n`);
    });
  });
}

function write(sink: Sink, record: PortableRecord): Promise<void> {
  return sink.write(recordLine(record));
}

/**
 * Records a whole export writes, for the progress bar: sessions plus messages, orphans aside (never exported);
 * unknown (undefined) for a partial export or without a terminal to draw on.
 */
function totalOf(health: StoreHealth | undefined): number | undefined {
  if (!health || !process.stderr.isTTY) return undefined;
  return health.sessions === undefined || health.messages === undefined
    ? undefined
    : health.sessions + health.messages - (health.orphanMessages ?? 0);
}

/**
 * The line saying that `count` orphan messages were left out and how to get them back. The export format holds
 * a message only under its session, and the store never lists orphans (so `--on-invalid repair` does not see
 * them either); `migrate --on-invalid repair` reads the file's rows directly and gives them a recovered session.
 */
export function orphanWarning(count: number, config: ResolvedConnection): string {
  // Quoted only when the shell needs it, so the usual path reads as typed. (Orphans exist in files only.)
  const file = typeof config.filename === 'string' ? config.filename : '<file>';
  const from = /^[\w./:@+-]+$/.test(file) ? file : `'${file.replaceAll("'", `'\\''`)}'`;
  return (
    `warning: ${plural(count, 'orphan message')} (their session row is gone) not exported: an export holds ` +
    'messages under their session only, and --on-invalid repair does not see them. To recover them, copy the ' +
    `file with flux-memory migrate --from ${from} --to postgresql://USER@HOST/DB --on-invalid repair, which ` +
    'writes them under a "Recovered session" (metadata {"_recovered":true}).'
  );
}
