import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');

/** The `ts` blocks marked `<!-- readme-test: run -->`, in README order (they build on each other). */
function runBlocks(text: string): string[] {
  return [...text.matchAll(/<!-- readme-test: run -->\n```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

// The one change the test makes: no Anthropic account here, so `ChatAnthropic` is LangChain's fake chat model,
// which also prints how many messages each call was given.
const FAKE_MODEL = `import { FakeListChatModel } from '@langchain/core/utils/testing';
class ChatAnthropic extends FakeListChatModel {
  constructor(_fields) {
    super({ responses: ['Adjacent over hypotenuse.'] });
  }
  async _generate(messages, options, runManager) {
    console.log(JSON.stringify(messages.map((m) => m.type)));
    return super._generate(messages, options, runManager);
  }
}`;

const scratch = mkdtempSync(join(packageDir, '.readme-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('README', () => {
  it('examples - run as written, with a fake ChatAnthropic, and store what they say', async () => {
    const blocks = runBlocks(readme);
    expect(blocks).toHaveLength(3);
    const source = blocks.join('\n');
    const anthropic = "import { ChatAnthropic } from '@langchain/anthropic';";
    expect(source).toContain(anthropic);
    const program = ts.transpileModule(source.replace(anthropic, FAKE_MODEL), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    // Inside this package, so that `@flux-rag/langchain` (a self-reference) and `@langchain/core` resolve.
    const file = join(scratch, 'readme-example.mjs');
    writeFileSync(file, program);
    const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: scratch, timeout: 60_000 });

    // What the model was given at each call: the history grows; then the trimmer keeps the last 3 messages from
    // the first human among them (so 2), and the store still gets the whole turn.
    expect(
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([
      ['system', 'human'],
      ['system', 'human', 'ai', 'human'],
      ['system', 'human'],
      ['system', 'human', 'ai', 'human'],
    ]);
    const memory = new SqliteConversationMemory({ filename: join(scratch, 'data', 'memory.db') });
    try {
      const history = await memory.getHistory('some_string_identifying_a_user');
      expect(history.map((m) => [m.role, m.content])).toEqual([
        ['user', 'What does cosine mean?'],
        ['assistant', 'Adjacent over hypotenuse.'],
        ['user', "What's its inverse?"],
        ['assistant', 'Adjacent over hypotenuse.'],
        ['user', 'And the tangent?'],
        ['assistant', 'Adjacent over hypotenuse.'],
      ]);
      expect(await memory.getSession('u-42-chat-1')).toMatchObject({ ownerId: 'u-42' });
      expect(await memory.getHistory('u-42-chat-1')).toHaveLength(2);
    } finally {
      await memory.close();
    }
  }, 90_000);
});
