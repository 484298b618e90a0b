import { SessionNotFoundError } from '@flux-rag/memory-core';
import { type Command, Option } from 'commander';
import { describeConnection } from '../config.js';
import { headerLine, recordLine } from '../jsonl.js';
import { plural, println, progress } from '../output.js';
import { fileSink, type Sink, stdoutSink } from '../sink.js';
import { withStore } from '../store.js';
import { addConnectionOptions, addOwnerOption, type DataCommandOptions } from './options.js';

interface ExportOptions extends DataCommandOptions {
  session: string[];
  out?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
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
  addOwnerOption(command);
  addConnectionOptions(command).action(async (options: ExportOptions) => {
    await withStore(options, 'read', async ({ store, config }) => {
      const sessionIds = options.session.length > 0 ? [...new Set(options.session)] : undefined;
      // The contract ignores unknown ids; an id typed on the command line that matches nothing is a mistake.
      for (const id of sessionIds ?? []) {
        if (!(await store.getSession(id))) throw new SessionNotFoundError(id);
      }
      const toFile = options.out !== undefined && options.out !== '-';
      const sink: Sink = toFile ? await fileSink(options.out!) : stdoutSink();
      const counts = { sessions: 0, messages: 0 };
      // On stdout the records themselves are the output: a counter would be drawn between them.
      const meter = toFile ? progress('export: records') : { tick() {}, done() {} };
      try {
        await sink.write(headerLine(config.backend));
        for await (const record of store.exportRecords(sessionIds ? { sessionIds } : undefined)) {
          await sink.write(recordLine(record));
          counts[record.type === 'session' ? 'sessions' : 'messages']++;
          meter.tick(counts.sessions + counts.messages);
        }
        await sink.commit();
      } catch (error) {
        await sink.abort();
        throw error;
      } finally {
        meter.done();
      }
      const what = `${plural(counts.sessions, 'session')}, ${plural(counts.messages, 'message')}`;
      const summary = `Exported ${what} from ${describeConnection(config)}`;
      if (toFile) println(`${summary} to ${options.out}.`);
      else if (process.stderr.isTTY) process.stderr.write(`${summary}.\n`);
    });
  });
}
