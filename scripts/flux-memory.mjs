#!/usr/bin/env node
// `pnpm flux-memory <args>` from a clone: builds the CLI when its sources changed (turbo's cache makes an
// unchanged build a no-op), then runs it with the arguments as given. Build output is kept off stdout, so the
// command's stdout (`--json`, exports) stays clean for pipes: it is shown only when the build fails.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const turbo = path.join(root, 'node_modules', '.bin', 'turbo');
const build = spawnSync(turbo, ['run', 'build', '--filter=@flux-rag/cli...', '--output-logs=errors-only'], {
  cwd: root,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
});
if (build.error || build.status !== 0) {
  // Quiet when it works; the whole build log when it does not.
  process.stderr.write(`${build.stdout ?? ''}${build.stderr ?? ''}`);
  process.stderr.write(
    `flux-memory: building the CLI failed${build.error ? `: ${build.error.message}` : ''}\n`,
  );
  process.exit(build.status || 1);
}
// The CLI's hints ("Next: ...") name the command as the user typed it: it reads pnpm's own variables
// (npm_lifecycle_event, npm_package_name, npm_execpath), which reach it through this process's environment.
const env = process.env;
const run = spawnSync(
  process.execPath,
  [path.join(root, 'apps', 'cli', 'dist', 'bin.js'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    env,
  },
);
if (run.error) throw run.error;
process.exit(run.status ?? (run.signal ? 128 : 1));
