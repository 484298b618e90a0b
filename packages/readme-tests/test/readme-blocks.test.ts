import { describe, expect, it } from 'vitest';
import { normalizeOutput } from '../src/normalize-output.js';
import { consoleSteps, readmeBlocks } from '../src/readme-blocks.js';

describe('readmeBlocks', () => {
  it('reads each fence with the marker right before it, its before: and its skip reason', () => {
    const markdown = [
      '# Title',
      '<!-- readme-test: run -->',
      '```sh',
      'flux-memory demo',
      '```',
      '<!-- readme-test: output; before: flux-memory demo && flux-memory demo -->',
      '',
      '```console',
      '$ flux-memory check',
      'healthy',
      '```',
      '<!-- readme-test: skip: installs the package -->',
      '```sh',
      'npm install x',
      '```',
      'Some text, then an unmarked block:',
      '```ts',
      'x()',
      '```',
    ].join('\n');
    expect(readmeBlocks(markdown)).toEqual([
      { line: 3, lang: 'sh', body: 'flux-memory demo', mode: 'run', before: null, reason: null },
      {
        line: 8,
        lang: 'console',
        body: '$ flux-memory check\nhealthy',
        mode: 'output',
        before: 'flux-memory demo && flux-memory demo',
        reason: null,
      },
      {
        line: 13,
        lang: 'sh',
        body: 'npm install x',
        mode: 'skip',
        before: null,
        reason: 'installs the package',
      },
      { line: 17, lang: 'ts', body: 'x()', mode: null, before: null, reason: null },
    ]);
  });
});

describe('consoleSteps', () => {
  it('pairs each $ command with the lines under it, blank lines between steps dropped', () => {
    expect(consoleSteps('$ a\none\n\ntwo\n\n$ b\n$ c\nthree\n')).toEqual([
      { command: 'a', expected: 'one\n\ntwo' },
      { command: 'b', expected: '' },
      { command: 'c', expected: 'three' },
    ]);
    expect(() => consoleSteps('output first\n$ a')).toThrow(/must start/);
  });
});

describe('normalizeOutput', () => {
  it('replaces ids, times, durations and engine versions, and nothing else', () => {
    expect(
      normalizeOutput(
        'Created session 3893c8ac-984d-41fa-b8ba-7d880e131578 at 2026-11-29 16:09:33 \n' +
          '{"exportedAt":"2026-11-29T16:09:38.128Z","v":"SQLite 3.53.2"}\nDone in 309 ms.\nschema version  3\n\n',
      ),
    ).toBe(
      'Created session <uuid> at <time>\n{"exportedAt":"<time>","v":"SQLite <version>"}\nDone in <n> ms.\nschema version  3',
    );
  });
});
