import { DEFAULTS, LIMITS, type SessionSummary } from '@flux-rag/memory-core';
import type { Command } from 'commander';
import { describeConnection } from '../config.js';
import { formatTime, paint, printJson, println, sortKeys, table, truncate } from '../output.js';
import { visible } from '../sanitize.js';
import { withStore } from '../store.js';
import {
  addConnectionOptions,
  addJsonOption,
  addOwnerOption,
  type DataCommandOptions,
  integer,
} from './options.js';

interface SessionsOptions extends DataCommandOptions {
  limit: number;
  offset: number;
}

/** A session summary as `--json` prints it: ISO timestamps, metadata keys sorted. */
export function sessionJson(s: SessionSummary) {
  return {
    id: s.id,
    title: s.title,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
    messageCount: s.messageCount,
    lastMessageAt: s.lastMessageAt ? s.lastMessageAt.toISOString() : null,
    ownerId: s.ownerId ?? null,
    metadata: sortKeys(s.metadata),
  };
}

/** Rows of the human-readable session table, header first. */
export function sessionRows(sessions: readonly SessionSummary[]): string[] {
  const out = process.stdout;
  const rows = table([
    ['ID', 'MESSAGES', 'UPDATED (UTC)', 'TITLE'],
    ...sessions.map((s) => [
      visible(s.id),
      String(s.messageCount),
      formatTime(s.updatedAt),
      // Escaped before it is cut, so that an escape is never cut in half.
      truncate(visible(s.title ?? '-'), 60),
    ]),
  ]);
  return rows.map((row, i) => (i === 0 ? paint(out, 'bold', row) : row));
}

/** `flux-memory sessions`: one page of sessions, most recent activity first. */
export function registerSessionsCommand(program: Command): void {
  const command = program
    .command('sessions')
    .description('list sessions, most recent activity first')
    .option(
      '--limit <n>',
      `sessions per page, 1 to ${LIMITS.sessionsLimit}`,
      integer(1, LIMITS.sessionsLimit),
      DEFAULTS.sessionsLimit,
    )
    .option('--offset <n>', 'sessions to skip', integer(0, LIMITS.offset), 0);
  addOwnerOption(command);
  addJsonOption(addConnectionOptions(command)).action(async (options: SessionsOptions) => {
    await withStore(options, 'read', async ({ store, config }) => {
      const sessions = await store.getSessions({ limit: options.limit, offset: options.offset });
      if (options.json) return printJson(sessions.map(sessionJson));
      if (sessions.length === 0) {
        println(
          options.offset > 0
            ? `No sessions past offset ${options.offset}.`
            : options.owner === undefined
              ? `No sessions in ${describeConnection(config)}.`
              : `No sessions of owner ${options.owner} in ${describeConnection(config)}.`,
        );
        return;
      }
      for (const row of sessionRows(sessions)) println(row);
      if (sessions.length === options.limit && process.stdout.isTTY) {
        println(paint(process.stdout, 'dim', `More: --offset ${options.offset + options.limit}`));
      }
    });
  });
}
