import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/**
 * Vitest global setup: the process tests run `dist/bin.js`, so a missing build fails the run with the command
 * to run, and a build older than its sources is reported. Turbo builds before testing (`test` depends on
 * `build`); a direct `vitest run` after an edit would otherwise test the previous binary without a word. Only a
 * warning for staleness: a build restored from turbo's cache may carry older times while being current.
 */
export default function checkBuild(): void {
  const built = (source: string) =>
    join(root, 'dist', relative(join(root, 'src'), source)).replace(/\.ts$/, '.js');
  const files = sources(join(root, 'src'));
  const missing = files.find((source) => !existsSync(built(source)));
  if (missing) {
    throw new Error(
      `dist/ lacks the build of ${relative(root, missing)}: run \`pnpm build\` in apps/cli (or \`pnpm test\` from ` +
        'the repository root, which builds first) before these tests',
    );
  }
  const stale = files.find((source) => statSync(built(source)).mtimeMs < statSync(source).mtimeMs);
  if (stale) {
    console.warn(
      `warning: dist/ is older than ${relative(root, stale)}; the tests run the built binary: pnpm build`,
    );
  }
}
