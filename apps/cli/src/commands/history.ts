import { LIMITS, type Message, SessionNotFoundError } from '@flux-rag/memory-core';
import type { Command } from 'commander';
import { formatTime, paint, printJson, println, sortKeys } from '../output.js';
import { visible } from '../sanitize.js';
import { withStore } from '../store.js';
import {
  addConnectionOptions,
  addJsonOption,
  addOwnerOption,
  type DataCommandOptions,
  integer,
} from './options.js';

interface HistoryOptions extends DataCommandOptions {
  limit?: number;
}

/**
 * A message as `--json` prints it: the whole message, ISO timestamp, metadata keys sorted; the payload as stored
 * (its keys in their order) and the format, `null` when none.
 */
export function messageJson(m: Message) {
  return {
    id: m.id,
    sessionId: m.sessionId,
    role: m.role,
    content: m.content,
    createdAt: m.createdAt.toISOString(),
    metadata: sortKeys(m.metadata),
    format: m.format,
    payload: m.payload,
  };
}

/**
 * A message for people: time and role (and the payload's format, when there is one), the content indented,
 * metadata dimmed. The payload itself is not printed: `content` is its text, `--json` shows it whole.
 */
export function messageLines(m: Message): string[] {
  const out = process.stdout;
  // Stored text reaches a terminal: escape sequences in it are shown, never acted on (see sanitize.ts).
  const format = m.format === null ? '' : ` ${paint(out, 'dim', `(${visible(m.format)})`)}`;
  const lines = [
    `${paint(out, 'dim', `[${formatTime(m.createdAt)}]`)} ${paint(out, roleColour(m.role), visible(m.role))}${format}`,
  ];
  for (const line of m.content.split('\n')) lines.push(`  ${visible(line)}`);
  if (Object.keys(m.metadata).length > 0) {
    lines.push(paint(out, 'dim', `  ${visible(JSON.stringify(sortKeys(m.metadata)))}`));
  }
  return lines;
}

function roleColour(role: string) {
  switch (role) {
    case 'user':
      return 'cyan' as const;
    case 'assistant':
      return 'green' as const;
    case 'system':
      return 'magenta' as const;
    default:
      return 'yellow' as const;
  }
}

/** `flux-memory history <session-id>`: a session's messages, oldest first. */
export function registerHistoryCommand(program: Command): void {
  const command = program
    .command('history')
    .description("print a session's messages, oldest first")
    .argument('<session-id>', 'the session to read')
    .option(
      '--limit <n>',
      `only the last n messages (still oldest first), 1 to ${LIMITS.historyLimit}`,
      integer(1, LIMITS.historyLimit),
    );
  addOwnerOption(command);
  addJsonOption(addConnectionOptions(command)).action(async (sessionId: string, options: HistoryOptions) => {
    await withStore(options, 'read', async ({ store }) => {
      const session = await store.getSession(sessionId);
      // The contract reads an unknown session as empty; on the command line that is almost always a typo.
      if (!session) throw new SessionNotFoundError(sessionId);
      const messages = await store.getHistory(
        sessionId,
        options.limit === undefined ? undefined : { limit: options.limit },
      );
      if (options.json) return printJson(messages.map(messageJson));
      const title = session.title === null ? '' : ` ${visible(JSON.stringify(session.title))}`;
      println(paint(process.stdout, 'bold', `Session ${visible(session.id)}${title}`));
      if (messages.length === 0) println('  (no messages)');
      for (const message of messages) for (const line of messageLines(message)) println(line);
    });
  });
}
