import { PORTABLE_FORMAT_VERSION, type PortableRecord } from '@flux-rag/memory-core';
import { describe, expect, it } from 'vitest';
import { CliError } from './cli-error.js';
import { headerLine, openExport, recordLine } from './jsonl.js';

async function* linesOf(text: string): AsyncGenerator<string> {
  yield* text.split('\n');
}

async function readAll(text: string): Promise<PortableRecord[]> {
  const reader = await openExport(linesOf(text));
  const records: PortableRecord[] = [];
  for await (const record of reader.records) records.push(record);
  return records;
}

async function failure(promise: Promise<unknown>): Promise<CliError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    return error as CliError;
  }
  throw new Error('expected a failure');
}

const session: PortableRecord = {
  type: 'session',
  id: 's1',
  title: 'T',
  createdAt: '2025-03-01T14:32:01.117364Z',
  updatedAt: '2025-03-01T14:33:00.000001Z',
  metadata: { b: 1, a: { d: 2, c: 3 } },
  ownerId: null,
};
const message: PortableRecord = {
  type: 'message',
  id: 'm1',
  sessionId: 's1',
  role: 'assistant',
  content: 'line one\nline two',
  createdAt: '2025-03-01T14:33:00.000001Z',
  metadata: { sources: [{ id: 'doc' }] },
};

describe('export format', () => {
  it('round-trips records through header and record lines, microseconds included', async () => {
    const text = headerLine('sqlite') + recordLine(session) + recordLine(message);
    expect(await readAll(text)).toEqual([session, message]);
  });

  it('writes one line per record, metadata keys sorted, in the documented field order', () => {
    const line = recordLine(session);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(line).toBe(
      '{"type":"session","id":"s1","title":"T","createdAt":"2025-03-01T14:32:01.117364Z",' +
        '"updatedAt":"2025-03-01T14:33:00.000001Z","ownerId":null,"metadata":{"a":{"c":3,"d":2},"b":1}}\n',
    );
  });

  it('starts with a header naming the format and version', () => {
    const header = JSON.parse(headerLine('postgres', new Date('2025-01-02T03:04:05Z')));
    expect(header).toEqual({
      type: 'header',
      format: 'flux-rag-memory',
      version: PORTABLE_FORMAT_VERSION,
      exportedAt: '2025-01-02T03:04:05.000Z',
      source: 'postgres',
      contractVersion: expect.any(String),
    });
  });

  it('refuses an unknown version before reading any record', async () => {
    const text = `{"type":"header","format":"flux-rag-memory","version":${PORTABLE_FORMAT_VERSION + 1}}\n`;
    const error = await failure(openExport(linesOf(text)));
    expect(error.code).toBe('IMPORT_FORMAT_UNSUPPORTED');
    expect(error.message).toMatch(/version 3 is not supported; this flux-memory reads versions 1 and 2/);
  });

  it('refuses another format, and a file without a header', async () => {
    expect((await failure(openExport(linesOf('{"format":"other","version":1}')))).code).toBe(
      'IMPORT_FORMAT_UNSUPPORTED',
    );
    expect(await failure(openExport(linesOf(recordLine(session))))).toMatchObject({
      code: 'IMPORT_FORMAT_INVALID',
    });
    expect((await failure(openExport(linesOf('\n\n')))).message).toMatch(/empty/);
    expect((await failure(openExport(linesOf('not json')))).message).toMatch(
      /line 1: not a flux-rag-memory export/,
    );
  });

  it('skips blank lines and a byte order mark, and accepts a second header (files joined with cat)', async () => {
    const text = `\uFEFF${headerLine('sqlite')}\n${recordLine(session)}\r\n${headerLine('sqlite')}${recordLine(message)}`;
    const records = await readAll(text.replace(/\r\n/g, '\n'));
    expect(records.map((r) => r.id)).toEqual(['s1', 'm1']);
  });

  it('names the line of a record that is not JSON or not valid', async () => {
    const bad = await failure(readAll(`${headerLine('sqlite')}${recordLine(session)}{oops\n`));
    expect(bad.message).toBe('line 3: not valid JSON');
    const invalid = await failure(
      readAll(`${headerLine('sqlite')}\n${JSON.stringify({ ...session, createdAt: 'yesterday' })}\n`),
    );
    expect(invalid.code).toBe('VALIDATION_FAILED');
    expect(invalid.message).toMatch(/^line 3: Invalid records\[0\]\.createdAt/);
  });

  it('reads a file written before owners existed (no ownerId) as ownerless', async () => {
    const { ownerId: _, ...legacy } = session;
    const [record] = await readAll(`${headerLine('sqlite')}${JSON.stringify(legacy)}\n`);
    expect(record).toMatchObject({ type: 'session', id: 's1', ownerId: null });
  });

  it('version 2: a message with payload and format round-trips, the payload keys in their order', async () => {
    const structured: PortableRecord = {
      ...message,
      payload: { z: [1, { b: 2, a: 1 }], a: 'x', parts: [{ type: 'text', text: 'hi' }] },
      format: 'ai-sdk/ui-message',
    };
    const line = recordLine(structured);
    expect(line).toContain('"payload":{"z":[1,{"b":2,"a":1}],"a":"x"');
    const [record] = await readAll(headerLine('sqlite') + line);
    expect(record).toEqual(structured);
    expect(JSON.stringify((record as { payload: unknown }).payload)).toBe(JSON.stringify(structured.payload));
    // A message without them is written exactly as version 1 wrote it.
    expect(recordLine(message)).not.toMatch(/payload|format/);
  });

  it('reads a version 1 file (no payload or format) as messages without them', async () => {
    const v1 = '{"type":"header","format":"flux-rag-memory","version":1}\n';
    expect(await readAll(v1 + recordLine(session) + recordLine(message))).toEqual([session, message]);
  });

  it('refuses a version 2 message with an invalid payload, naming the line', async () => {
    const bad = `${JSON.stringify({ ...message, format: '' })}\n`;
    const error = await failure(readAll(headerLine('sqlite') + bad));
    expect(error.message).toMatch(/line 2.*format/);
  });
});
