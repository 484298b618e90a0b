import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SQLITE_SCHEMA_VERSION } from '@flux-rag/memory-sqlite';
import { withClient } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { outputBlock, runBlock } from '../src/check-block.js';
import { ExampleSandbox, REPO_ROOT } from '../src/example-sandbox.js';
import { type ReadmeBlock, readmeBlocks } from '../src/readme-blocks.js';

/** The READMEs whose examples are tested (see the root README, Development). */
const READMES = ['README.md', 'apps/cli/README.md', 'packages/ai-sdk/README.md'];

const sandboxes: ExampleSandbox[] = [];
const sandbox = () => {
  const made = new ExampleSandbox(testPostgresUrl());
  sandboxes.push(made);
  return made;
};
afterEach(async () => {
  for (const made of sandboxes.splice(0)) {
    made.remove();
    await withClient(testPostgresUrl(), (c) => c.query(`DROP SCHEMA IF EXISTS "${made.schema}" CASCADE`));
  }
});

for (const readme of READMES) {
  const blocks = readmeBlocks(readFileSync(path.join(REPO_ROOT, readme), 'utf8'));

  describe(readme, () => {
    it('every fenced block says how it is tested (run, output or skip with a reason)', () => {
      const unmarked = blocks.filter((b) => b.mode === null || (b.mode === 'skip' && !b.reason));
      expect(unmarked.map((b) => `${readme}:${b.line}`)).toEqual([]);
      expect(blocks.filter((b) => b.mode === 'output' && b.lang !== 'console').map((b) => b.line)).toEqual(
        [],
      );
    });

    for (const block of blocks) {
      if (block.mode !== 'run' && block.mode !== 'output') continue;
      it(`${readme}:${block.line} (${block.lang}, ${block.mode})`, () =>
        block.mode === 'run' ? runBlock(block, sandbox) : outputBlock(block, sandbox));
    }
  });
}

describe('the harness itself', () => {
  const block = (
    mode: 'run' | 'output',
    lang: string,
    body: string,
    before: string | null = null,
  ): ReadmeBlock => ({
    line: 1,
    lang,
    body,
    mode,
    before,
    reason: null,
  });

  it('fails on a stale output sample, a stale flag, a wrong exit code, and passes the true one', () => {
    const setup = sandbox();
    expect(setup.shell('flux-memory demo').code).toBe(0);
    const real = setup.shell('flux-memory check').output;
    // The latest version, not a literal: each new migration would otherwise make this test stale.
    expect(real).toMatch(new RegExp(`^schema version +${SQLITE_SCHEMA_VERSION}$`, 'm'));
    const check = (shown: string) => () =>
      outputBlock(block('output', 'console', `$ flux-memory check\n${shown}`, 'flux-memory demo'), sandbox);
    expect(check(real)).not.toThrow();
    expect(
      check(
        real.replace(/(schema version +)\d+/, (_, label: string) => `${label}${SQLITE_SCHEMA_VERSION - 1}`),
      ),
    ).toThrow();
    expect(check(real.replace(/(sessions +)1/, (_, label: string) => `${label}2`))).toThrow();
    const stale = (text: string) => () => outputBlock(block('output', 'console', text), sandbox);
    expect(stale('$ flux-memory sessions --limt 2')).toThrow(/unknown option/);
    expect(stale('$ flux-memory check --url ./none.db\n$ echo $?\n0')).toThrow();
    expect(() => runBlock(block('run', 'sh', 'flux-memory demo --no-such-flag'), sandbox)).toThrow();
    expect(() => runBlock(block('run', 'ts', "throw new Error('stale');"), sandbox)).toThrow(/stale/);
  });

  it('an example session id stands for the newest session; an example DSN for the test server', () => {
    outputBlock(
      block(
        'output',
        'console',
        [
          '$ flux-memory delete 3893c8ac-984d-41fa-b8ba-7d880e131578',
          'Deleted session 11111111-2222-4333-8444-555555555555.',
          '$ flux-memory check --url postgresql://app:secret@db/app | grep location',
          'location         postgresql://app:***@db/app',
        ].join('\n'),
        'flux-memory demo',
      ),
      sandbox,
    );
  });
});
