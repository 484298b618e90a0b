import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8');

/** The README's `ts` blocks marked to run, in order. */
const examples = [...README.matchAll(/<!-- readme-test: run -->\n```ts\n([\s\S]*?)```/g)].map(
  (m) => m[1] as string,
);

/**
 * What runs before an example: no tracing, and a default model provider whose scripted model answers each model
 * call with the next reply the README shows in its comments, so the SDK's own example runs with no network.
 */
const PRELUDE = `
import { setDefaultModelProvider, setTracingDisabled } from '@openai/agents-core';
import { assistantMessage, ScriptedModel } from '@openai/agents-core/testing';
setTracingDisabled(true);
const scripted = new ScriptedModel(REPLIES.map((reply) => [assistantMessage(reply)]));
setDefaultModelProvider({ getModel: () => scripted });
`;

/** Runs one example with the built packages, in a fresh directory for its `./data/memory.db`; returns stdout. */
async function runExample(code: string, replies: string[], cwd: string): Promise<string> {
  // Node 20 cannot strip types: the compiler removes them. `@openai/agents` re-exports `@openai/agents-core`,
  // the only one of the two this workspace installs.
  const program = ts
    .transpileModule(code, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    })
    .outputText.replaceAll(`from '@openai/agents'`, `from '@openai/agents-core'`);
  // Inside the package, so that its imports resolve as the package's own (its name included, to dist/).
  const scratch = mkdtempSync(join(PACKAGE_DIR, '.readme-example-'));
  try {
    const file = join(scratch, 'example.mjs');
    writeFileSync(file, `const REPLIES = ${JSON.stringify(replies)};\n${PRELUDE}\n${program}`);
    const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd, timeout: 60_000 });
    return stdout;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

describe('README examples', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'flux-rag-openai-agents-readme-'));
    dirs.push(dir);
    return dir;
  };

  it('README - has the two examples marked to run', () => {
    expect(examples).toHaveLength(2);
  });

  it('README - the SDK example with a FluxSession prints its replies and leaves the session in SQLite', async () => {
    const cwd = freshDir();
    const stdout = await runExample(examples[0] as string, ['San Francisco', 'California'], cwd);
    expect(stdout.trim().split('\n')).toEqual(['San Francisco', 'California']);
    const memory = new SqliteConversationMemory({ filename: join(cwd, 'data', 'memory.db') });
    try {
      const history = await memory.getHistory('tour-42');
      expect(history.map((m) => [m.role, m.content])).toEqual([
        ['user', 'What city is the Golden Gate Bridge in?'],
        ['assistant', 'San Francisco'],
        ['user', 'What state is it in?'],
        ['assistant', 'California'],
      ]);
    } finally {
      await memory.close();
    }
  }, 90_000);

  it("README - the owner scoping example stores the chat as the run context's user's", async () => {
    const cwd = freshDir();
    const stdout = await runExample(examples[1] as string, ['San Francisco'], cwd);
    expect(stdout.trim()).toBe('San Francisco');
    const memory = new SqliteConversationMemory({ filename: join(cwd, 'data', 'memory.db') });
    try {
      expect((await memory.getSession('chat-7'))?.ownerId).toBe('u-42');
      expect(await memory.forOwner('u-42').getHistory('chat-7')).toHaveLength(2);
    } finally {
      await memory.close();
    }
  }, 90_000);
});
