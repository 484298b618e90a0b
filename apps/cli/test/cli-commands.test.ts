import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { fails, failsJson, ok, okJson, runCli, tempDir } from './run-cli.js';
import { type OpenedTarget, TARGETS, type Target } from './targets.js';

interface SessionJson {
  id: string;
  title: string | null;
  createdAt: string;
  updatedAt: string;
  messageCount: number;
  lastMessageAt: string | null;
  ownerId: string | null;
  metadata: Record<string, unknown>;
}
interface MessageJson {
  id: string;
  sessionId: string;
  role: string;
  content: string;
  createdAt: string;
  metadata: Record<string, unknown>;
  format: string | null;
  payload: unknown;
}

/** Runs the demo and returns the id of the session it created. */
async function demo(cwd: string, args: readonly string[]): Promise<string> {
  const out = await ok(['demo', ...args], { cwd });
  const id = /Created session (\S+)/.exec(out)?.[1];
  expect(id, out).toBeDefined();
  return id!;
}

/** Writes an export file of `records` (after the header) in `cwd` and returns its path. */
function exportFile(cwd: string, name: string, records: readonly object[]): string {
  const file = join(cwd, name);
  const header = { type: 'header', format: 'flux-rag-memory', version: 1 };
  writeFileSync(file, [header, ...records].map((r) => `${JSON.stringify(r)}\n`).join(''));
  return file;
}

/** A session of `ownerId` (or of no one), active at `minute`, and its one message. */
function ownedSession(id: string, ownerId: string | null, minute: number): object[] {
  const at = `2025-01-01T00:${String(minute).padStart(2, '0')}:00Z`;
  return [
    { type: 'session', id, createdAt: at, updatedAt: at, ownerId },
    {
      type: 'message',
      id: `m-${id}`,
      sessionId: id,
      role: 'user',
      content: `hello from ${id}`,
      createdAt: at,
    },
  ];
}

/** Two sessions of alice, one of bob, one of no one. */
const OWNED = [
  ...ownedSession('alice-1', 'alice', 1),
  ...ownedSession('alice-2', 'alice', 2),
  ...ownedSession('bob-1', 'bob', 3),
  ...ownedSession('nobody-1', null, 4),
];

/** What each test gets: its own directory and its own empty store, so tests run concurrently. */
interface Workspace {
  cwd: string;
  args: readonly string[];
  /** Another empty store of the same backend, closed with the test. */
  open(label: string): Promise<OpenedTarget>;
}

function withWorkspace(target: Target) {
  return test.extend<{ ws: Workspace }>({
    ws: async ({ task: _ }, use) => {
      const { dir, remove } = await tempDir();
      const opened: OpenedTarget[] = [await target.open(dir)];
      await use({
        cwd: dir,
        args: opened[0]!.args,
        async open(label) {
          const store = await target.open(dir, label);
          opened.push(store);
          return store;
        },
      });
      for (const store of opened) await store.close();
      await remove();
    },
  });
}

describe.concurrent.each(TARGETS)('flux-memory on $name', (target) => {
  const it = withWorkspace(target);

  it('demo - writes a conversation with metadata, reads it back and lists it', async ({
    ws: { cwd, args },
  }) => {
    const out = await ok(['demo', ...args], { cwd });
    expect(out).toContain(`flux-memory demo on ${target.name}`);
    expect(out).toContain('Added 5 messages with metadata');
    expect(out).toContain('[2 sources, 876 tokens]');
    expect(out).toContain('5 messages, oldest first, content and metadata unchanged');
    expect(out).toContain('Sessions in the store: 1');
    expect(out).not.toContain('\x1b[');
    const id = /Created session (\S+)/.exec(out)?.[1];
    expect(out).toContain(`flux-memory history ${id}`);
  });

  it('sessions --json - lists what demo wrote, with exact counts and metadata', async ({
    ws: { cwd, args },
  }) => {
    const id = await demo(cwd, args);
    const sessions = await okJson<SessionJson[]>(['sessions', '--json', ...args], { cwd });
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      id,
      title: 'Demo: moving a RAG chat history to PostgreSQL',
      messageCount: 5,
      ownerId: null,
      metadata: { app: 'flux-memory demo', tags: ['demo', 'rag'], userId: 'demo-user' },
    });
    expect(Object.keys(sessions[0]!.metadata)).toEqual(['app', 'tags', 'userId']);
    expect(sessions[0]!.lastMessageAt).toBe(sessions[0]!.updatedAt);
  });

  it('sessions - prints a table, and pages with --limit and --offset', async ({ ws: { cwd, args } }) => {
    const ids = [await demo(cwd, args), await demo(cwd, args), await demo(cwd, args)];
    const table = await ok(['sessions', ...args], { cwd });
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +MESSAGES +UPDATED \(UTC\) +TITLE$/);
    expect(lines).toHaveLength(4);
    const first = await okJson<SessionJson[]>(['sessions', '--limit', '2', '--json', ...args], { cwd });
    const rest = await okJson<SessionJson[]>(
      ['sessions', '--limit', '2', '--offset', '2', '--json', ...args],
      {
        cwd,
      },
    );
    expect(first).toHaveLength(2);
    expect(rest).toHaveLength(1);
    // Most recent activity first: the last demo's session leads.
    expect([...first, ...rest].map((s) => s.id)).toEqual([...ids].reverse());
    expect(await ok(['sessions', '--offset', '3', ...args], { cwd })).toBe('No sessions past offset 3.\n');
  });

  it('history --json - returns the messages oldest first with their metadata; --limit keeps the last ones', async ({
    ws: { cwd, args },
  }) => {
    const id = await demo(cwd, args);
    const history = await okJson<MessageJson[]>(['history', id, '--json', ...args], { cwd });
    expect(history.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant']);
    expect(history.every((m) => m.sessionId === id)).toBe(true);
    // The whole message: the demo's messages have no payload, which --json shows as null rather than leaving out.
    expect(Object.keys(history[2]!).sort()).toEqual(
      ['content', 'createdAt', 'format', 'id', 'metadata', 'payload', 'role', 'sessionId'].sort(),
    );
    expect(history[2]).toMatchObject({ format: null, payload: null });
    expect(history[2]!.metadata).toEqual({
      latencyMs: 742,
      model: 'demo-llm-1',
      sources: [
        { id: 'docs/cli.md#export', score: 0.91, title: 'Exporting conversations' },
        { id: 'docs/backends.md#postgres', score: 0.84, title: 'The PostgreSQL backend' },
      ],
      tokens: { completion: 64, prompt: 812, total: 876 },
    });
    const times = history.map((m) => Date.parse(m.createdAt));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const last = await okJson<MessageJson[]>(['history', id, '--limit', '2', '--json', ...args], { cwd });
    expect(last).toEqual(history.slice(3));
  });

  it('history - prints roles, contents and metadata for people', async ({ ws: { cwd, args } }) => {
    const id = await demo(cwd, args);
    const out = await ok(['history', id, ...args], { cwd });
    expect(out).toMatch(new RegExp(`^Session ${id} "Demo: moving a RAG chat history to PostgreSQL"\n`));
    expect(out).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] assistant\n {2}Yes\. `flux-memory export`/m);
    expect(out).toContain('  {"channel":"cli","locale":"en-GB"}');
  });

  it('history and delete - an unknown session is SESSION_NOT_FOUND, exit 1', async ({
    ws: { cwd, args },
  }) => {
    await demo(cwd, args);
    const history = await fails(['history', 'no-such-session', ...args], { cwd });
    expect(history.line).toBe('error: SESSION_NOT_FOUND: Session not found: "no-such-session"');
    expect(history.stdout).toBe('');
    // Under --json the failure is JSON too (it was a plain line before issue 13), exit code unchanged.
    const json = await failsJson(['history', 'no-such-session', '--json', ...args], { cwd });
    expect(json.stdout).toBe('');
    expect(json.error).toEqual({
      code: 'SESSION_NOT_FOUND',
      message: 'Session not found: "no-such-session"',
    });
    expect((await fails(['delete', 'no-such-session', ...args], { cwd })).line).toMatch(/SESSION_NOT_FOUND/);
  });

  it('delete - removes the session and its messages, once', async ({ ws: { cwd, args } }) => {
    const keep = await demo(cwd, args);
    const gone = await demo(cwd, args);
    const scripted = await demo(cwd, args);
    expect(await okJson(['delete', scripted, '--json', ...args], { cwd })).toEqual({ deleted: scripted });
    expect(await ok(['delete', gone, ...args], { cwd })).toBe(`Deleted session ${gone}.\n`);
    await fails(['history', gone, ...args], { cwd });
    const sessions = await okJson<SessionJson[]>(['sessions', '--json', ...args], { cwd });
    expect(sessions.map((s) => s.id)).toEqual([keep]);
    const health = await okJson<{ messages: number }>(['check', '--json', ...args], { cwd });
    expect(health.messages).toBe(5);
    await fails(['delete', gone, ...args], { cwd });
  });

  it('check - reports backend, versions and row counts, exit 0', async ({ ws: { cwd, args } }) => {
    await demo(cwd, args);
    const report = await okJson<Record<string, unknown>>(['check', '--json', ...args], { cwd });
    expect(report).toMatchObject({
      backend: target.name,
      reachable: true,
      healthy: true,
      sessions: 1,
      messages: 5,
    });
    expect(report.serverVersion).toEqual(expect.any(String));
    expect(report.schemaVersion).toEqual(expect.any(Number));
    expect(report).not.toHaveProperty('error');
    const text = await ok(['check', ...args], { cwd });
    expect(text).toMatch(new RegExp(`^backend +${target.name}\n`));
    expect(text).toMatch(/^schema version +\d+$/m);
    // Both SQL backends report orphan messages, and check shows the line whenever the backend reports them.
    expect(text).toMatch(/^sessions +1\nmessages +5\norphan messages +0\nhealthy\n$/m);
  });

  it('export - writes a header then one line per session and message', async ({ ws: { cwd, args } }) => {
    const a = await demo(cwd, args);
    const b = await demo(cwd, args);
    const out = await ok(['export', ...args], { cwd });
    const lines = out
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines[0]).toMatchObject({
      type: 'header',
      format: 'flux-rag-memory',
      version: 2,
      source: target.name,
    });
    expect(lines).toHaveLength(1 + 2 * 6);
    const sessions = lines.filter((r) => r.type === 'session').map((r) => r.id);
    expect(sessions).toEqual([a, b].sort());
    const message = lines.find((r) => r.type === 'message');
    expect(message.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(Object.keys(lines[1])).toEqual([
      'type',
      'id',
      'title',
      'createdAt',
      'updatedAt',
      'ownerId',
      'metadata',
    ]);
    expect(Object.keys(message)).toEqual([
      'type',
      'id',
      'sessionId',
      'role',
      'content',
      'createdAt',
      'metadata',
    ]);
  });

  it('export --session --out - writes only the sessions asked for, to a file', async ({
    ws: { cwd, args },
  }) => {
    const a = await demo(cwd, args);
    await demo(cwd, args);
    const file = join(cwd, 'one.jsonl');
    const out = await ok(['export', '--session', a, '--out', file, ...args], { cwd });
    expect(out).toMatch(/^Exported 1 session, 5 messages from .* to .*one\.jsonl\.\n$/);
    const records = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((line) => JSON.parse(line));
    expect(records).toHaveLength(6);
    expect(new Set(records.map((r) => (r.type === 'session' ? r.id : r.sessionId)))).toEqual(new Set([a]));
    const missing = await fails(
      ['export', '--session', a, '--session', 'nope', '--out', join(cwd, 'x.jsonl'), ...args],
      {
        cwd,
      },
    );
    expect(missing.line).toMatch(/SESSION_NOT_FOUND: Session not found: "nope"/);
    expect(existsSync(join(cwd, 'x.jsonl'))).toBe(false);
  });

  it('import - writes an export into an empty store, identically; a second import writes nothing', async ({
    ws: { cwd, args, open },
  }) => {
    const id = await demo(cwd, args);
    await demo(cwd, args);
    const file = join(cwd, 'all.jsonl');
    await ok(['export', '--out', file, ...args], { cwd });
    const other = await open('other');
    {
      const first = await okJson(['import', file, '--json', ...other.args], { cwd });
      expect(first).toEqual({ sessions: { written: 2, skipped: 0 }, messages: { written: 10, skipped: 0 } });
      const again = await ok(['import', file, ...other.args], { cwd });
      expect(again).toMatch(/sessions 0 written, 2 skipped; messages 0 written, 10 skipped\.\n$/);
      for (const command of [['history', id], ['sessions']]) {
        expect(await ok([...command, '--json', ...other.args], { cwd })).toBe(
          await ok([...command, '--json', ...args], { cwd }),
        );
      }
      const reExported = await ok(['export', ...other.args], { cwd });
      expect(reExported.split('\n').slice(1)).toEqual(readFileSync(file, 'utf8').split('\n').slice(1));
    }
  });

  it('import - - reads stdin', async ({ ws: { cwd, args, open } }) => {
    await demo(cwd, args);
    const exported = await ok(['export', ...args], { cwd });
    const other = await open('piped');
    {
      const result = await runCli(['import', '-', '--json', ...other.args], { cwd, input: exported });
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout)).toEqual({
        sessions: { written: 1, skipped: 0 },
        messages: { written: 5, skipped: 0 },
      });
    }
  });

  it('import - refuses an unknown format version before writing anything', async ({ ws: { cwd, args } }) => {
    const file = join(cwd, 'future.jsonl');
    writeFileSync(
      file,
      '{"type":"header","format":"flux-rag-memory","version":99}\n' +
        '{"type":"session","id":"s","createdAt":"2025-01-01T00:00:00Z"}\n',
    );
    const { line } = await fails(['import', file, ...args], { cwd });
    expect(line).toBe(
      'error: IMPORT_FORMAT_UNSUPPORTED: line 1: flux-rag-memory version 99 is not supported; this flux-memory reads versions 1 and 2',
    );
    writeFileSync(file, '{"id":1}\n');
    expect((await fails(['import', file, ...args], { cwd })).line).toMatch(
      /^error: IMPORT_FORMAT_INVALID: line 1: not a flux-rag-memory export/,
    );
  });

  it('import - names the line of a bad record and of a message without its session', async ({
    ws: { cwd, args },
  }) => {
    const header = '{"type":"header","format":"flux-rag-memory","version":1}\n';
    const file = join(cwd, 'bad.jsonl');
    writeFileSync(
      file,
      `${header}{"type":"session","id":"s1","createdAt":"2025-01-01T00:00:00Z"}\n\n{"type":"message","id":"m1","sessionId":"s1","role":"user","content":"hi","createdAt":"not a time"}\n`,
    );
    expect((await fails(['import', file, ...args], { cwd })).line).toMatch(
      /^error: VALIDATION_FAILED: line 4: Invalid records\[1\]\.createdAt: expected an ISO 8601 timestamp/,
    );
    writeFileSync(
      file,
      `${header}{"type":"message","id":"m1","sessionId":"ghost","role":"user","content":"hi","createdAt":"2025-01-01T00:00:00Z"}\n`,
    );
    expect((await fails(['import', file, ...args], { cwd })).line).toBe(
      'error: SESSION_NOT_FOUND: Session not found: "ghost"',
    );
    expect((await fails(['import', join(cwd, 'missing.jsonl'), ...args], { cwd })).line).toMatch(
      /^error: FILE_ERROR: cannot read .*missing\.jsonl: no such file$/,
    );
  });

  it("sessions, history and delete --owner - see only that owner's sessions; others' are not found and stay", async ({
    ws: { cwd, args },
  }) => {
    await ok(['import', exportFile(cwd, 'owned.jsonl', OWNED), ...args], { cwd });
    const listed = async (...flags: string[]) =>
      (await okJson<SessionJson[]>(['sessions', '--json', ...flags, ...args], { cwd })).map(
        (s) => `${s.id} ${s.ownerId}`,
      );
    expect(await listed('--owner', 'alice')).toEqual(['alice-2 alice', 'alice-1 alice']);
    expect(await listed('--owner', 'bob')).toEqual(['bob-1 bob']);
    expect(await listed()).toEqual(['nobody-1 null', 'bob-1 bob', 'alice-2 alice', 'alice-1 alice']);
    expect(await ok(['sessions', '--owner', 'carol', ...args], { cwd })).toMatch(
      /^No sessions of owner carol in /,
    );
    const table = await ok(['sessions', '--owner', 'bob', ...args], { cwd });
    expect(table.trimEnd().split('\n').slice(1)).toEqual([
      expect.stringMatching(/^bob-1 +1 +2025-01-01 00:03:00 +-$/),
    ]);

    const history = await okJson<MessageJson[]>(
      ['history', 'alice-1', '--owner', 'alice', '--json', ...args],
      {
        cwd,
      },
    );
    expect(history.map((m) => m.content)).toEqual(['hello from alice-1']);
    // Another owner's session, and one of no owner, are as absent to alice as an id that was never used.
    for (const [command, id] of [
      ['history', 'bob-1'],
      ['history', 'nobody-1'],
      ['delete', 'bob-1'],
      ['delete', 'nobody-1'],
    ] as const) {
      const refused = await fails([command, id, '--owner', 'alice', ...args], { cwd });
      expect(refused.line).toBe(`error: SESSION_NOT_FOUND: Session not found: "${id}"`);
      expect(refused.stdout).toBe('');
    }
    expect(await okJson(['delete', 'alice-1', '--owner', 'alice', '--json', ...args], { cwd })).toEqual({
      deleted: 'alice-1',
    });
    expect(await listed()).toEqual(['nobody-1 null', 'bob-1 bob', 'alice-2 alice']);
    const bobs = await okJson<MessageJson[]>(['history', 'bob-1', '--json', ...args], { cwd });
    expect(bobs.map((m) => m.id)).toEqual(['m-bob-1']);
  });

  it("export --owner - writes only that owner's sessions and messages; another's --session is not found", async ({
    ws: { cwd, args },
  }) => {
    await ok(['import', exportFile(cwd, 'owned.jsonl', OWNED), ...args], { cwd });
    const records = (await ok(['export', '--owner', 'alice', ...args], { cwd }))
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((line) => JSON.parse(line));
    expect(records.map((r) => `${r.type} ${r.id} ${r.ownerId ?? r.sessionId}`)).toEqual([
      'session alice-1 alice',
      'message m-alice-1 alice-1',
      'session alice-2 alice',
      'message m-alice-2 alice-2',
    ]);
    const out = join(cwd, 'bob.jsonl');
    const missing = await fails(['export', '--owner', 'alice', '--session', 'bob-1', '--out', out, ...args], {
      cwd,
    });
    expect(missing.line).toBe('error: SESSION_NOT_FOUND: Session not found: "bob-1"');
    expect(existsSync(out)).toBe(false);
    expect(
      await ok(['export', '--owner', 'bob', '--session', 'bob-1', '--out', out, ...args], { cwd }),
    ).toMatch(/^Exported 1 session, 1 message from /);
  });

  it("import --owner - gives the file's sessions to that owner; another owner's session is refused by line", async ({
    ws: { cwd, args },
  }) => {
    const unowned = exportFile(cwd, 'unowned.jsonl', [
      ...ownedSession('nobody-1', null, 1),
      ...ownedSession('carol-1', 'carol', 2),
    ]);
    expect(await okJson(['import', unowned, '--owner', 'carol', '--json', ...args], { cwd })).toEqual({
      sessions: { written: 2, skipped: 0 },
      messages: { written: 2, skipped: 0 },
    });
    const sessions = await okJson<SessionJson[]>(['sessions', '--json', ...args], { cwd });
    expect(sessions.map((s) => `${s.id} ${s.ownerId}`)).toEqual(['carol-1 carol', 'nobody-1 carol']);
    // Line 4 is alice's session, after an unowned one and its message: the batch is refused whole.
    const mixed = exportFile(cwd, 'mixed.jsonl', [
      ...ownedSession('new-1', null, 5),
      ...ownedSession('alice-1', 'alice', 6),
    ]);
    const { line } = await fails(['import', mixed, '--owner', 'carol', ...args], { cwd });
    expect(line).toBe(
      'error: VALIDATION_FAILED: line 4: Invalid records[2].ownerId: differs from the owner this store is scoped to',
    );
    expect(await okJson<SessionJson[]>(['sessions', '--json', ...args], { cwd })).toEqual(sessions);
  });
});
