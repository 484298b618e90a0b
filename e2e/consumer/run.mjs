// The consumer's view, run by CI: pack every public package, install the tarballs with plain npm into a scratch
// project outside the workspace, then use them there as a user and as a third-party backend author would.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packAll } from '../../scripts/pack-workspace.mjs';

const packs = packAll();
const tarball = (name) => {
  const found = packs.find((pack) => pack.name === name);
  if (!found) throw new Error(`${name} was not packed`);
  return `file:${found.tarball}`;
};

const project = mkdtempSync(join(tmpdir(), 'flux-rag-consumer-'));
cpSync(new URL('./fixture', import.meta.url), project, { recursive: true });
writeFileSync(
  join(project, 'package.json'),
  JSON.stringify(
    {
      name: 'flux-rag-consumer',
      private: true,
      type: 'module',
      // Every library tarball (not the CLI and the migrator, which this project does not use): @flux-rag/memory
      // depends on each registered backend, and none of them is on the npm registry yet.
      dependencies: {
        ...Object.fromEntries(
          packs
            .filter((pack) => pack.name !== '@flux-rag/cli' && pack.name !== '@flux-rag/migrator')
            .map((pack) => [pack.name, tarball(pack.name)]),
        ),
        // The framework @flux-rag/langchain adapts (its peer), from the registry as an app would install it.
        '@langchain/core': '1.4.0',
      },
      devDependencies: {
        // The adapters' peers, from the registry as their users get them: ai for @flux-rag/ai-sdk
        // (fixture/ai-sdk.test.ts), @openai/agents-core for @flux-rag/openai-agents, zod for both.
        ai: '^7.0.185',
        '@openai/agents-core': '^0.20.0',
        zod: '^4.1.8',
        '@types/node': '^20.19.0',
        'fast-check': '^4.3.0',
        typescript: '5.9.3',
        vitest: '4.1.12',
      },
    },
    null,
    2,
  ),
);

const run = (command, args) => {
  console.log(`\n$ ${command} ${args.join(' ')}`);
  execFileSync(command, args, { cwd: project, stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: '' } });
};

console.log(`consumer project: ${project}`);
run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error']);
run('node', ['esm.mjs']);
run('node', ['--no-warnings', 'cjs.cjs']);
run('npx', ['tsc', '-p', 'tsconfig.nodenext.json']);
run('npx', ['tsc', '-p', 'tsconfig.bundler.json']);
run('npx', ['vitest', 'run', '--root', '.']);
console.log('\nconsumer test: ok');
