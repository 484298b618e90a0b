import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { fails, tempDir } from './run-cli.js';

const LEGACY = fileURLToPath(new URL('./fixtures/flux-rag-memory.db', import.meta.url));

// A folder with too little free disk needs a small filesystem of its own: a tmpfs, which only root may mount.
// CI runs as root, so there the test must run; elsewhere it is skipped with that reason.
const isRoot = process.getuid?.() === 0;
if (!isRoot && process.env.CI === 'true') {
  throw new Error(
    'the free-disk test needs root (to mount a small tmpfs) and CI runs as root: it must not skip',
  );
}

let work: Awaited<ReturnType<typeof tempDir>>;
let small: string;
beforeEach(async () => {
  work = await tempDir();
  small = join(work.dir, 'small');
  mkdirSync(small);
});
afterEach(async () => {
  try {
    execFileSync('umount', [small]);
  } catch {
    // Not mounted (the mount itself failed): nothing to undo.
  }
  await work.remove();
});

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe.skipIf(!isRoot)('flux-memory upgrade on a nearly full disk (needs root to mount a tmpfs)', () => {
  test.each([
    ['with the backup', []],
    ['--no-backup', ['--no-backup']],
  ])('%s - refuses before writing, says how much it needs, the file and folder as they were', async (_, extra) => {
    // The Python file is 756 KiB and about 1.6 MiB after the upgrade: 1.2 MiB of disk holds it, not the upgrade.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1200k', 'tmpfs', small]);
    const path = join(small, 'app.db');
    copyFileSync(LEGACY, path);
    const before = { hash: sha256(path), files: readdirSync(small).sort() };
    const { line } = await fails(['upgrade', '--url', path, ...extra], { cwd: work.dir });
    expect(line).toMatch(
      /not enough free disk to upgrade .*app\.db: it needs \d+ bytes .*nothing was written/,
    );
    expect({ hash: sha256(path), files: readdirSync(small).sort() }).toEqual(before);
  });
});
