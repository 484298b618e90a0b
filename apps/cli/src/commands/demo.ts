import { isDeepStrictEqual } from 'node:util';
import type { Metadata, NewMessage } from '@flux-rag/memory-core';
import { maskSecrets } from '@flux-rag/memory-core/backend';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { describeConnection, descriptorOf } from '../config.js';
import { paint, println, sortKeys, truncate } from '../output.js';
import { withStore } from '../store.js';
import { addConnectionOptions, type DataCommandOptions, refuseOwnerOption } from './options.js';
import { sessionRows } from './sessions.js';

/** The conversation the demo writes: a RAG assistant answering with its sources and token counts. */
export const DEMO_CONVERSATION: readonly NewMessage[] = [
  {
    role: 'system',
    content: 'You answer questions about the flux-rag docs. Cite the retrieved passages you use.',
  },
  {
    role: 'user',
    content: 'Can I move my chat history from SQLite to PostgreSQL without losing anything?',
    metadata: { channel: 'cli', locale: 'en-GB' },
  },
  {
    role: 'assistant',
    content:
      'Yes. `flux-memory export` writes every session and message as JSON Lines with ids, metadata and ' +
      'microsecond timestamps; `flux-memory import` writes them into any other backend and skips what is ' +
      'already there, so running it twice is safe.',
    metadata: {
      model: 'demo-llm-1',
      sources: [
        { id: 'docs/cli.md#export', title: 'Exporting conversations', score: 0.91 },
        { id: 'docs/backends.md#postgres', title: 'The PostgreSQL backend', score: 0.84 },
      ],
      tokens: { prompt: 812, completion: 64, total: 876 },
      latencyMs: 742,
    },
  },
  {
    role: 'user',
    content: 'And how do I see that the database is healthy?',
    metadata: { channel: 'cli', locale: 'en-GB' },
  },
  {
    role: 'assistant',
    content:
      '`flux-memory check` reports the backend, where it points (passwords masked), the server and schema ' +
      'versions and row counts, and exits non-zero when the database is not reachable.',
    metadata: {
      model: 'demo-llm-1',
      sources: [{ id: 'docs/cli.md#check', title: 'Checking a connection', score: 0.95 }],
      tokens: { prompt: 905, completion: 41, total: 946 },
      latencyMs: 515,
    },
  },
];

const DEMO_SESSION = {
  title: 'Demo: moving a RAG chat history to PostgreSQL',
  metadata: { app: 'flux-memory demo', userId: 'demo-user', tags: ['demo', 'rag'] } satisfies Metadata,
};

function summary(metadata: Metadata | undefined): string {
  if (!metadata) return '';
  const parts: string[] = [];
  if (Array.isArray(metadata.sources)) {
    const n = metadata.sources.length;
    parts.push(`${n} ${n === 1 ? 'source' : 'sources'}`);
  }
  const tokens = metadata.tokens as { total?: number } | undefined;
  if (typeof tokens?.total === 'number') parts.push(`${tokens.total} tokens`);
  return parts.length > 0 ? ` [${parts.join(', ')}]` : '';
}

/** `flux-memory demo`: writes a short conversation, reads it back, lists sessions. */
export function registerDemoCommand(program: Command): void {
  const command = program
    .command('demo')
    .description(
      'write a short RAG conversation to the configured store (default ./data/memory.db), read it back, list sessions',
    );
  refuseOwnerOption(
    command,
    'it writes a sample conversation that belongs to no one (import --owner assigns sessions)',
  );
  addConnectionOptions(command).action(async (options: DataCommandOptions) => {
    const out = process.stdout;
    const step = (n: number, text: string) => println(`${paint(out, 'bold', `${n}.`)} ${text}`);
    const started = performance.now();
    await withStore(options, 'write', async ({ store, config }) => {
      println(paint(out, 'bold', `flux-memory demo on ${describeConnection(config)}`));
      println();

      const sessionId = await store.createSession(DEMO_SESSION);
      step(1, `Created session ${paint(out, 'cyan', sessionId)} ${JSON.stringify(DEMO_SESSION.title)}`);

      for (const message of DEMO_CONVERSATION) await store.addMessage(sessionId, message);
      step(2, `Added ${DEMO_CONVERSATION.length} messages with metadata:`);
      for (const m of DEMO_CONVERSATION) {
        println(
          `     ${m.role.padEnd(9)}  ${truncate(m.content, 60)}${paint(out, 'dim', summary(m.metadata))}`,
        );
      }

      const history = await store.getHistory(sessionId);
      const same =
        history.length === DEMO_CONVERSATION.length &&
        history.every(
          (m, i) =>
            m.role === DEMO_CONVERSATION[i]!.role &&
            m.content === DEMO_CONVERSATION[i]!.content &&
            isDeepStrictEqual(m.metadata, DEMO_CONVERSATION[i]!.metadata ?? {}),
        );
      if (!same) throw new CliError('DEMO_MISMATCH', 'the history read back differs from what was written');
      step(
        3,
        `Read the history back: ${history.length} messages, oldest first, content and metadata unchanged.`,
      );
      const answer = history[2]!;
      println(
        `     ${answer.role} metadata: ${paint(out, 'dim', truncate(JSON.stringify(sortKeys(answer.metadata)), 100))}`,
      );

      const health = await store.check();
      const latest = await store.getSessions({ limit: 5 });
      step(
        4,
        `Sessions in the store: ${health.sessions ?? latest.length} (latest ${latest.length}, most recent first):`,
      );
      for (const row of sessionRows(latest)) println(`     ${row}`);

      println();
      const done = paint(out, 'green', `Done in ${Math.round(performance.now() - started)} ms.`);
      // A backend without locations (in-memory) persists nothing: there is nothing to look at next.
      if (!descriptorOf(config).connectionStrings) {
        println(`${done} The ${config.backend} backend keeps nothing once the command exits.`);
        return;
      }
      println(`${done} Next:`);
      const flags = demoFlags(options);
      const cli = invocation(process.env);
      println(`  ${cli} history ${sessionId}${flags}`);
      println(`  ${cli} export --session ${sessionId}${flags} --out demo.jsonl`);
      println(`  ${cli} check${flags}`);
    });
  });
}

/** The connection flags the user gave, repeated in the suggested next commands so that they hit the same store. */
function demoFlags(options: DataCommandOptions): string {
  const parts: string[] = [];
  if (options.backend !== undefined) parts.push(`--backend ${options.backend}`);
  if (options.url !== undefined) parts.push(`--url ${JSON.stringify(maskSecrets(options.url))}`);
  if (options.schema !== undefined) parts.push(`--schema ${options.schema}`);
  if (options.dotenv !== undefined) parts.push(`--dotenv ${options.dotenv}`);
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}

/**
 * How to run flux-memory again from where the demo ran, for the "Next:" hints: the root's script when it was
 * started by a script of the workspace root (`pnpm flux-memory demo`, `pnpm demo`: pnpm sets
 * `npm_lifecycle_event` to the script's name and `npm_package_name` to the root's), `flux-memory` otherwise
 * (installed). `FLUX_MEMORY_COMMAND` overrides both, for wrappers of other kinds.
 */
export function invocation(env: Readonly<Record<string, string | undefined>>): string {
  const override = env.FLUX_MEMORY_COMMAND?.trim();
  if (override) return override;
  const fromWorkspace =
    env.npm_package_name === 'flux-rag-memory' &&
    (env.npm_lifecycle_event === 'flux-memory' || env.npm_lifecycle_event === 'demo');
  return fromWorkspace ? `${pnpmCommand(env)} flux-memory` : 'flux-memory';
}

/**
 * The pnpm the user typed: `pnpm` when installed; `npx -y pnpm@<version>` when npx fetched it (the README's
 * quick start on a machine without pnpm), which runs from its cache under `_npx`, so that the hint runs as
 * printed there too.
 */
function pnpmCommand(env: Readonly<Record<string, string | undefined>>): string {
  if (!/[\\/]_npx[\\/]/.test(env.npm_execpath ?? '')) return 'pnpm';
  const version = /\bpnpm\/(\S+)/.exec(env.npm_config_user_agent ?? '')?.[1];
  return version === undefined ? 'npx -y pnpm' : `npx -y pnpm@${version}`;
}
