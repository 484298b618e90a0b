import { expect } from 'vitest';
import type { ExampleSandbox } from './example-sandbox.js';
import { normalizeOutput } from './normalize-output.js';
import { consoleSteps, type ReadmeBlock } from './readme-blocks.js';

/** Makes the fresh sandbox a block runs in. */
export type SandboxFactory = () => ExampleSandbox;

/** A fresh sandbox for the block, its marker's `before:` commands run (they must succeed). */
function sandboxFor(block: ReadmeBlock, make: SandboxFactory): ExampleSandbox {
  const sandbox = make();
  if (block.before) {
    const setup = sandbox.shell(sandbox.prepare(block.before));
    expect(setup.code, `before: ${block.before}\n${setup.output}`).toBe(0);
  }
  return sandbox;
}

/**
 * A `run` block: shell lines (or a console block's `$` commands, their shown output not compared) run in order
 * and must all succeed; TypeScript must run without error.
 */
export function runBlock(block: ReadmeBlock, make: SandboxFactory): void {
  const sandbox = sandboxFor(block, make);
  if (block.lang === 'ts') {
    const result = sandbox.typescript(block.body);
    expect(result.code, result.output).toBe(0);
    return;
  }
  const commands =
    block.lang === 'console'
      ? consoleSteps(block.body).map((step) => step.command)
      : block.body.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
  for (const command of commands) {
    const result = sandbox.shell(sandbox.prepare(command));
    expect(result.code, `$ ${command}\n${result.output}`).toBe(0);
  }
}

/**
 * An `output` block: each `$ command` runs, and the output shown under it must be what it prints (after
 * {@link normalizeOutput}). A command shown with no output must succeed; one whose shown output starts with
 * `error:` must fail; `$ echo $?` shows the exit code of the command before it.
 */
export function outputBlock(block: ReadmeBlock, make: SandboxFactory): void {
  const sandbox = sandboxFor(block, make);
  let last = 0;
  for (const { command, expected } of consoleSteps(block.body)) {
    if (command.trim() === 'echo $?') {
      expect(String(last), `the exit code before "$ echo $?"`).toBe(expected.trim());
      continue;
    }
    const result = sandbox.shell(sandbox.prepare(command));
    last = result.code;
    const shown = sandbox.present(result.output, command);
    if (expected.startsWith('error:')) expect(result.code, `$ ${command}\n${shown}`).not.toBe(0);
    else expect(result.code, `$ ${command}\n${shown}`).toBe(0);
    if (expected !== '') expect(normalizeOutput(shown), `$ ${command}`).toBe(normalizeOutput(expected));
  }
}
