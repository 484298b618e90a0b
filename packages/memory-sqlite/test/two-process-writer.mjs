// One of the writers of two-processes.test.ts: a separate Node process writing to the shared file through the
// package as the global setup compiled it (test/build-once.ts). Usage: node two-process-writer.mjs <build> <file>
// <name> <count>, where <build> is the compiled package's index.js; it prints "ready", waits for a line
// on stdin (sent to both writers at once), writes, then prints what it wrote as JSON.
import { pathToFileURL } from 'node:url';
import { ConflictError } from '@flux-rag/memory-core';

const [build, file, name, count] = process.argv.slice(2);
const { SqliteConversationMemory } = await import(pathToFileURL(build).href);
const store = new SqliteConversationMemory({ filename: file });
// Both processes start together, on a file that does not exist yet: they also race to create the schema.
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.pause();
try {
  await store.createSession({ id: 'shared', title: 'both write here' });
} catch (error) {
  if (!ConflictError.isInstance(error)) throw error;
}
await store.createSession({ id: name });
const ids = { shared: [], own: [] };
const write = async (sessionId, list) => {
  for (let i = 0; i < Number(count); i++) {
    list.push(await store.addMessage(sessionId, { role: 'user', content: `${name} ${i}`, metadata: { i } }));
  }
};
await Promise.all([write('shared', ids.shared), write(name, ids.own)]);
await store.close();
process.stdout.write(`${JSON.stringify(ids)}\n`);
