import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FluxChatMessageHistory } from '../src/index.js';
import { handBuiltMessages } from './messages.js';
import { type StoreLocation, useBackends } from './support.js';

const { backends } = useBackends();
const reader = fileURLToPath(new URL('./fixtures/read-history.mjs', import.meta.url));

/** Reads the session in a new `node` process, through the built package (`dist/`), as another app would. */
async function readInChild(location: StoreLocation, sessionId: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, READ_BACKEND: location.backend, READ_SESSION: sessionId };
  if (location.backend === 'sqlite') env.READ_FILENAME = location.filename;
  if (location.backend === 'postgres')
    Object.assign(env, { READ_URL: location.url, READ_SCHEMA: location.schema });
  const { stdout } = await promisify(execFile)(process.execPath, [reader], { env, timeout: 60_000 });
  return JSON.parse(stdout) as Array<{ class: string; dict: unknown }>;
}

describe.each(backends.filter((b) => b.name !== 'memory'))('a new process on $name', (backend) => {
  it('getMessages - reads what this process wrote, classes and toDict JSON equal', async () => {
    const { memory, location } = await backend.create();
    const sent = handBuiltMessages();
    const history = new FluxChatMessageHistory({ memory, sessionId: 'across-processes' });
    await history.addMessages(sent.slice(0, 3));
    await history.addMessages(sent.slice(3));
    await memory.close();

    const read = await readInChild(location, 'across-processes');
    expect(read.map((m) => m.class)).toEqual(sent.map((m) => m.constructor.name));
    expect(JSON.stringify(read.map((m) => m.dict))).toBe(JSON.stringify(sent.map((m) => m.toDict())));
  }, 90_000);
});
