// Package hygiene, run by CI: every public package, as packed, passes publint and Are the Types Wrong, ships
// only dist/ and its README, and carries no workspace-only range.
import { execFileSync } from 'node:child_process';
import { packAll } from './pack-workspace.mjs';

const bin = (name) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;
let failed = 0;

for (const { name, tarball } of packAll()) {
  console.log(`\n== ${name}`);
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
  const stray = files.filter(
    (file) => !/^package\/(dist\/|README\.md$|package\.json$|LICENSE$|CHANGELOG\.md$)/.test(file),
  );
  if (stray.length > 0) {
    failed++;
    console.log(`files outside dist/ and the README: ${stray.join(', ')}`);
  }
  if (files.some((file) => /\.test\.(js|d\.ts)$/.test(file))) {
    failed++;
    console.log('test files in the tarball');
  }
  const manifest = execFileSync('tar', ['-xOzf', tarball, 'package/package.json'], { encoding: 'utf8' });
  if (manifest.includes('workspace:')) {
    failed++;
    console.log('a workspace: range leaked into package.json');
  }
  for (const [tool, args] of [
    ['publint', ['run', tarball, '--strict']],
    // ESM only: require() of these packages works natively from Node 20.19 (require(esm)), hence esm-only.
    ['attw', [tarball, '--profile', 'esm-only', '--no-color', '--no-emoji']],
  ]) {
    try {
      console.log(execFileSync(bin(tool), args, { encoding: 'utf8' }).trim());
    } catch (error) {
      failed++;
      console.log(`${tool} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    }
  }
}

if (failed > 0) {
  console.error(`\npackage checks: ${failed} problem(s)`);
  process.exit(1);
}
console.log('\npackage checks: every package is clean');
