// Packs every public workspace package with pnpm (which rewrites `workspace:` ranges to real versions), the
// way `pnpm publish` would, so checks run on exactly what a consumer downloads.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

/** Public packages of the workspace: `{ name, dir }`, dependencies first. */
export function publicPackages() {
  const found = [];
  for (const group of ['packages', 'apps']) {
    for (const entry of readdirSync(join(root, group))) {
      const dir = join(root, group, entry);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (!manifest.private) found.push({ name: manifest.name, dir });
    }
  }
  const order = [
    '@flux-rag/memory-core',
    '@flux-rag/memory-sqlite',
    '@flux-rag/memory-postgres',
    '@flux-rag/memory',
    '@flux-rag/migrator',
  ];
  const rank = (name) => (order.includes(name) ? order.indexOf(name) : order.length);
  return found.sort((a, b) => rank(a.name) - rank(b.name));
}

/** Packs every public package into a new temporary folder; returns `{ name, dir, tarball }` for each. */
export function packAll() {
  const destination = mkdtempSync(join(tmpdir(), 'flux-rag-pack-'));
  return publicPackages().map((pkg) => {
    const before = new Set(readdirSync(destination));
    execFileSync('npx', ['-y', 'pnpm@12.4.2', 'pack', '--pack-destination', destination], {
      cwd: pkg.dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tarball = readdirSync(destination).find((file) => !before.has(file) && file.endsWith('.tgz'));
    if (!tarball) throw new Error(`pnpm pack produced no tarball for ${pkg.name}`);
    return { ...pkg, tarball: join(destination, tarball) };
  });
}
