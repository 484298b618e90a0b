import {
  CONTRACT_VERSION,
  PORTABLE_FORMAT_VERSION,
  type PortableRecord,
  READABLE_PORTABLE_FORMAT_VERSIONS,
  ValidationError,
} from '@flux-rag/memory-core';
import { validatePortableRecord } from '@flux-rag/memory-core/backend';
import { CliError } from './cli-error.js';
import { sortKeys } from './output.js';

/** The `format` of an export file's header line. */
export const EXPORT_FORMAT = 'flux-rag-memory';

/**
 * The first line of an export file. A reader checks `format` and `version` and refuses anything else;
 * the other fields are informative.
 */
export interface ExportHeader {
  readonly type: 'header';
  readonly format: typeof EXPORT_FORMAT;
  /** {@link PORTABLE_FORMAT_VERSION} of the records that follow. */
  readonly version: number;
  /** When the export started, UTC ISO 8601. */
  readonly exportedAt: string;
  /** The backend the records came from. */
  readonly source: string;
  /** The `ConversationMemory` contract version of the writer. */
  readonly contractVersion: string;
}

/** The header line for an export from `source`, with its line break. */
export function headerLine(source: string, now = new Date()): string {
  const header: ExportHeader = {
    type: 'header',
    format: EXPORT_FORMAT,
    version: PORTABLE_FORMAT_VERSION,
    exportedAt: now.toISOString(),
    source,
    contractVersion: CONTRACT_VERSION,
  };
  return `${JSON.stringify(header)}\n`;
}

/**
 * One record as one line, fields in the documented order and metadata keys sorted, so that the same data
 * exports to the same bytes from any backend.
 */
export function recordLine(record: PortableRecord): string {
  const ordered =
    record.type === 'session'
      ? {
          type: record.type,
          id: record.id,
          title: record.title,
          createdAt: record.createdAt,
          updatedAt: record.updatedAt,
          ownerId: record.ownerId ?? null,
          metadata: sortKeys(record.metadata),
        }
      : {
          type: record.type,
          id: record.id,
          sessionId: record.sessionId,
          role: record.role,
          content: record.content,
          createdAt: record.createdAt,
          metadata: sortKeys(record.metadata),
          // Version 2 fields, only when set; the payload's keys keep their order (its digest depends on it).
          ...(record.payload != null && { payload: record.payload }),
          ...(record.format != null && { format: record.format }),
        };
  return `${JSON.stringify(ordered)}\n`;
}

/** An export file opened for reading: its header, checked, and its records, parsed lazily. */
export interface ExportReader {
  readonly header: ExportHeader;
  /** The records, validated, one line in memory at a time. */
  readonly records: AsyncGenerator<PortableRecord>;
  /**
   * `error` with the line number of the record it names, when that is the record read last: a store refuses
   * some records only once it has them (an owner-scoped import refuses another owner's session) and names them
   * by index (`records[i].ownerId`), where a person looks for a line. Any other error is returned as it is.
   */
  locate(error: unknown): unknown;
}

/**
 * Reads an export file's header now and its records as they are pulled. The first non-blank line must be a
 * header of a known format and version (`IMPORT_FORMAT_UNSUPPORTED` or `IMPORT_FORMAT_INVALID` otherwise,
 * before any record is read, so a wrong file changes nothing); blank lines are ignored; a later header line
 * (exports joined with `cat`) is checked the same way. A line that is not JSON, or not a valid record, fails
 * with its line number.
 */
export async function openExport(lines: AsyncIterable<string>): Promise<ExportReader> {
  const { header, entries } = await openExportRaw(lines);
  let last = { index: -1, line: 0 };
  async function* records(): AsyncGenerator<PortableRecord> {
    let index = 0;
    // Leaving the loop early (the importer stopped) returns `entries`, which closes the file.
    for await (const { value, line } of entries) {
      let record: PortableRecord;
      try {
        record = validatePortableRecord(value, index);
      } catch (error) {
        if (!ValidationError.isInstance(error)) throw error;
        throw new CliError(error.code, `line ${line}: ${error.message}`, { cause: error });
      }
      last = { index: index++, line };
      yield record;
    }
  }
  const locate = (error: unknown): unknown =>
    ValidationError.isInstance(error) && last.index >= 0 && error.field.startsWith(`records[${last.index}]`)
      ? new CliError(error.code, `line ${last.line}: ${error.message}`, { cause: error })
      : error;
  return { header, records: records(), locate };
}

/** One record of an export file as read, not yet validated, with the line it came from. */
export interface RawEntry {
  readonly value: unknown;
  readonly line: number;
}

/**
 * Reads an export file like {@link openExport} (header checked first, blank lines and further headers of the
 * same version skipped, a line that is not JSON refused with its number) but yields each record unvalidated,
 * so that the caller can judge every record itself (`import --on-invalid`).
 */
export async function openExportRaw(
  lines: AsyncIterable<string>,
): Promise<{ header: ExportHeader; entries: AsyncGenerator<RawEntry> }> {
  const iterator = lines[Symbol.asyncIterator]();
  let lineNumber = 0;
  let header: ExportHeader | undefined;
  while (header === undefined) {
    const next = await iterator.next();
    if (next.done) throw new CliError('IMPORT_FORMAT_INVALID', 'the file is empty: no header line');
    lineNumber++;
    const line = lineNumber === 1 ? next.value.replace(/^\uFEFF/, '') : next.value;
    if (line.trim() === '') continue;
    const value = parseLine(line);
    if (value === undefined || !isHeaderLike(value)) throw notAnExport(lineNumber);
    checkHeader(value, lineNumber);
    header = value as unknown as ExportHeader;
  }
  async function* entries(): AsyncGenerator<RawEntry> {
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        lineNumber++;
        if (next.value.trim() === '') continue;
        const value = parseLine(next.value);
        if (value === undefined) {
          throw new CliError('IMPORT_FORMAT_INVALID', `line ${lineNumber}: not valid JSON`);
        }
        if (isHeaderLike(value)) {
          checkHeader(value, lineNumber);
          continue;
        }
        yield { value, line: lineNumber };
      }
    } finally {
      await iterator.return?.();
    }
  }
  return { header, entries: entries() };
}

/** The parsed line, or `undefined` when it is not JSON. */
function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

function isHeaderLike(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { type } = value as Record<string, unknown>;
  // A version 2 message has a `format` too (its payload's): only a line that is no record is a header by it.
  return type === 'header' || ('format' in value && type !== 'message' && type !== 'session');
}

function checkHeader(header: Record<string, unknown>, lineNumber: number): void {
  if (header.format !== EXPORT_FORMAT) {
    throw new CliError(
      'IMPORT_FORMAT_UNSUPPORTED',
      `line ${lineNumber}: unknown format ${JSON.stringify(header.format)}; expected "${EXPORT_FORMAT}"`,
    );
  }
  if (typeof header.version !== 'number' || !READABLE_PORTABLE_FORMAT_VERSIONS.includes(header.version)) {
    throw new CliError(
      'IMPORT_FORMAT_UNSUPPORTED',
      `line ${lineNumber}: ${EXPORT_FORMAT} version ${JSON.stringify(header.version)} is not supported; ` +
        `this flux-memory reads versions ${READABLE_PORTABLE_FORMAT_VERSIONS.join(' and ')}`,
    );
  }
}

function notAnExport(lineNumber: number): CliError {
  return new CliError(
    'IMPORT_FORMAT_INVALID',
    `line ${lineNumber}: not a ${EXPORT_FORMAT} export: the first line must be its header ` +
      `{"type":"header","format":"${EXPORT_FORMAT}","version":${PORTABLE_FORMAT_VERSION},...}`,
  );
}
