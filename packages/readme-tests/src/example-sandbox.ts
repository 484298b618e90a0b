import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The repository root (this file is in packages/readme-tests/src). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('../', import.meta.url));
/** Files the markers' `before:` commands may use, as `$FIXTURES/<name>`. */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));
const CLI_BIN = path.join(REPO_ROOT, 'apps', 'cli', 'dist', 'bin.js');

/**
 * The connection strings the READMEs use for "your PostgreSQL server" (`postgresql://app@db/app`,
 * `postgresql://app:secret@db.internal/app`...): in commands they are replaced by the test server, whose schema
 * is the block's own (through `POSTGRES_SCHEMA`).
 */
const EXAMPLE_DSN = /\bpostgres(?:ql)?:\/\/app(?::[^@\s]*)?@db(?:\.internal)?\/app\b/g;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g;
const HAS_UUID = new RegExp(UUID.source);

/** What one command printed (stdout and stderr, interleaved as a terminal shows them) and its exit code. */
export interface ShellResult {
  readonly code: number;
  readonly output: string;
}

/**
 * A fresh place for one README block, as a reader would start it: an empty working directory (so the default
 * store `./data/memory.db` is a new SQLite file), a PostgreSQL schema of its own on the test server, and
 * `flux-memory` on the PATH running the CLI built in this clone.
 */
export class ExampleSandbox {
  readonly dir: string;
  readonly schema: string;
  readonly #bin: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #postgresUrl: string;

  constructor(postgresUrl: string) {
    this.#postgresUrl = postgresUrl;
    this.dir = mkdtempSync(path.join(tmpdir(), 'flux-readme-'));
    this.schema = `readme_${path
      .basename(this.dir)
      .replace(/[^a-z0-9]/gi, '')
      .toLowerCase()}`;
    this.#bin = path.join(this.dir, '.bin');
    mkdirSync(this.#bin);
    const flux = path.join(this.#bin, 'flux-memory');
    writeFileSync(
      flux,
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_BIN)} "$@"\n`,
    );
    chmodSync(flux, 0o755);
    if (spawnSync('sh', ['-c', 'command -v jq']).status !== 0) this.#addJqShim();
    const env: NodeJS.ProcessEnv = { ...process.env };
    // Nothing of the caller's configuration may leak into the examples.
    for (const name of [
      'DATABASE_BACKEND',
      'DATABASE_URL',
      'POSTGRES_DSN',
      'FLUX_MEMORY_COMMAND',
      'FORCE_COLOR',
    ]) {
      delete env[name];
    }
    this.#env = {
      ...env,
      PATH: `${this.#bin}${path.delimiter}${process.env.PATH ?? ''}`,
      POSTGRES_SCHEMA: this.schema,
      FIXTURES: FIXTURES_DIR,
      NO_COLOR: '1',
    };
  }

  /** A minimal `jq -r '.[].field'` for machines without jq (the READMEs use only that form). */
  #addJqShim(): void {
    const shim = path.join(this.#bin, 'jq');
    const script = [
      'const f = process.argv.at(-1).match(/^\\.\\[\\]\\.(\\w+)$/);',
      "if (!f) { console.error('jq shim: only .[].field'); process.exit(2); }",
      "let s = ''; process.stdin.on('data', (d) => (s += d)).on('end', () => {",
      '  for (const x of JSON.parse(s)) console.log(x[f[1]]);',
      '});',
    ].join('\n');
    writeFileSync(
      shim,
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} -e ${JSON.stringify(script)} "$@"\n`,
    );
    chmodSync(shim, 0o755);
  }

  /** The command as it runs here: example DSNs become the test server, example session ids the newest session. */
  prepare(command: string): string {
    let prepared = command.replace(EXAMPLE_DSN, this.#postgresUrl);
    if (HAS_UUID.test(prepared)) {
      const newest = this.newestSessionId();
      prepared = prepared.replace(UUID, newest);
    }
    return prepared;
  }

  /**
   * The real output written as the README writes it: the test server's location (masked, with the block's
   * schema) shown as the example DSN the command named.
   */
  present(output: string, command: string): string {
    const example = command.match(EXAMPLE_DSN)?.[0];
    if (!example) return output;
    const masked = example.replace(/^(\w+:\/\/[^:@/]*):[^@]*@/, '$1:***@');
    return output
      .replaceAll(`${this.#postgresUrl} (schema ${this.schema})`, masked)
      .replaceAll(this.#postgresUrl, masked);
  }

  /** The id of the session updated last in the block's SQLite store, for commands that name one. */
  newestSessionId(): string {
    const result = this.shell('flux-memory sessions --limit 1 --json');
    const sessions = JSON.parse(result.output) as { id: string }[];
    if (result.code !== 0 || sessions.length === 0) {
      throw new Error(`the command names a session, but the block's store has none: ${result.output}`);
    }
    return sessions[0]!.id;
  }

  /** Runs shell text with bash (`pipefail`), stderr merged into stdout in order. */
  shell(script: string): ShellResult {
    const run = spawnSync('bash', ['-o', 'pipefail', '-c', `exec 2>&1\n${script}`], {
      cwd: this.dir,
      env: this.#env,
      encoding: 'utf8',
      timeout: 90_000,
    });
    if (run.error) throw run.error;
    return { code: run.status ?? 128, output: run.stdout };
  }

  /**
   * Runs a TypeScript example with the built packages: type annotations removed with the TypeScript compiler
   * (Node 20 cannot strip them), written inside this workspace package so its imports resolve, run with the
   * block's directory as working directory.
   */
  typescript(source: string): ShellResult {
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
    });
    const scratch = mkdtempSync(path.join(PACKAGE_DIR, '.tmp-'));
    try {
      const file = path.join(scratch, 'example.mjs');
      writeFileSync(file, outputText);
      const run = spawnSync(process.execPath, [file], {
        cwd: this.dir,
        env: this.#env,
        encoding: 'utf8',
        timeout: 90_000,
      });
      if (run.error) throw run.error;
      return { code: run.status ?? 128, output: `${run.stdout}${run.stderr}` };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  /** Removes the directory (the schema is dropped by the caller, which owns the server connection). */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
