import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Where the global setup compiles the package for child processes; see {@link setup}. */
export const TEST_BUILD_DIR = fileURLToPath(new URL('../.test-build/', import.meta.url));

/**
 * Compiles the current source for the tests' child processes (which run plain Node), into a folder of its own.
 * Not into dist/: turbo runs other packages' tests at the same time, and their child processes (the CLI's
 * `flux-memory`) load this package's dist/; tsc rewriting it under them made a CLI test read a half-written
 * module. The folder sits in the package so that the build resolves `@flux-rag/memory-core` and the driver.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  rmSync(TEST_BUILD_DIR, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [
      tsc,
      '-p',
      'tsconfig.build.json',
      '--outDir',
      TEST_BUILD_DIR,
      '--declaration',
      'false',
      '--declarationMap',
      'false',
      '--sourceMap',
      'false',
    ],
    { cwd: root, stdio: 'inherit' },
  );
}
