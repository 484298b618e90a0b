import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { ImportResult, PortableRecord } from '@flux-rag/memory-core';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { describeConnection } from '../config.js';
import { openExport } from '../jsonl.js';
import { printJson, println, progress } from '../output.js';
import { withStore } from '../store.js';
import {
  addConnectionOptions,
  addJsonOption,
  addOwnerOption,
  type DataCommandOptions,
  integer,
} from './options.js';

interface ImportOptions extends DataCommandOptions {
  batchSize: number;
}

async function* counted(
  records: AsyncIterable<PortableRecord>,
  onCount: (n: number) => void,
): AsyncGenerator<PortableRecord> {
  let n = 0;
  for await (const record of records) {
    yield record;
    onCount(++n);
  }
}

/** `flux-memory import FILE`: writes an export file's records; records already present are skipped. */
export function registerImportCommand(program: Command): void {
  const command = program
    .command('import')
    .description('write the sessions and messages of an export file; ids already stored are skipped')
    .argument('<file>', 'a file written by flux-memory export, or - for stdin')
    .option('--batch-size <n>', 'records written per transaction, 1 to 10000', integer(1, 10_000), 500);
  addOwnerOption(command);
  addJsonOption(addConnectionOptions(command)).action(async (file: string, options: ImportOptions) => {
    const fromStdin = file === '-';
    const handle = fromStdin ? undefined : await openFile(file);
    try {
      const lines = handle
        ? handle.readLines({ encoding: 'utf8' })
        : createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
      // The header is read before the store is opened: a wrong file neither creates nor touches a database.
      const reader = await openExport(lines);
      const meter = progress('import: records');
      const { r, target } = await withStore(options, 'write', async ({ store, config }) => {
        try {
          const records = counted(reader.records, (n) => meter.tick(n));
          const r: ImportResult = await store.importRecords(records, { batchSize: options.batchSize });
          return { r, target: describeConnection(config) };
        } catch (error) {
          throw reader.locate(error);
        } finally {
          meter.done();
        }
      });
      if (options.json) return printJson(r);
      println(
        `Imported ${fromStdin ? 'stdin' : file} into ${target}: ` +
          `sessions ${r.sessions.written} written, ${r.sessions.skipped} skipped; ` +
          `messages ${r.messages.written} written, ${r.messages.skipped} skipped.`,
      );
    } finally {
      await handle?.close();
    }
  });
}

async function openFile(file: string) {
  try {
    return await open(file, 'r');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CliError('FILE_ERROR', `cannot read ${file}: ${reason}`, { cause: error });
  }
}
