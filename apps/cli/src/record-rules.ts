import { type PortableRecord, ValidationError } from '@flux-rag/memory-core';
import { validatePortableRecord } from '@flux-rag/memory-core/backend';
import {
  createTimestampReader,
  DEFAULT_MAX_CONTENT_BYTES,
  judgeMessage,
  judgeSession,
  type OnInvalid,
  type RowProblem,
  type RuleContext,
} from '@flux-rag/migrator';

export type { OnInvalid };

/** The `--on-invalid` values, as `migrate` takes them. */
export const ON_INVALID_CHOICES = ['fail', 'skip', 'repair'] as const;

/** A record that is not written, as the rejects file holds it (one JSON object per line). */
export interface RejectedRecord {
  /** Line of the import file, when the record came from one. */
  line?: number;
  type: unknown;
  id: unknown;
  sessionId?: unknown;
  /** Why: the contract's refusal, then the migrator's problems (`text_nul: …`) when repair was tried. */
  reasons: string[];
  /** The record as it was read, so that it can be fixed by hand and imported again. */
  record: unknown;
}

/** What becomes of one record: written (as it was, or repaired) or rejected. */
export type Verdict =
  | { readonly record: PortableRecord; readonly repairs: readonly string[] }
  | { readonly rejected: RejectedRecord };

/**
 * The rules of `export --on-invalid` and `import --on-invalid`: a record is valid when the contract's
 * `validatePortableRecord` accepts it (what `importRecords` and every backend enforce). Under `repair` an invalid
 * record goes through `@flux-rag/migrator`'s row rules (`judgeSession`/`judgeMessage`: U+0000 removed, unreadable
 * metadata set to `{}`, …), the same rules `migrate --on-invalid repair` applies, and is written when the contract
 * then accepts it. A session that is not written takes its messages with it (`session_rejected`).
 */
export class RecordRules {
  readonly #context: RuleContext;
  readonly #rejectedSessions = new Set<string>();

  constructor(readonly onInvalid: OnInvalid) {
    this.#context = {
      onInvalid,
      readTimestamp: createTimestampReader('UTC'),
      maxContentBytes: DEFAULT_MAX_CONTENT_BYTES,
      rejectedSessions: this.#rejectedSessions,
    };
  }

  /** Judges `value`, the `index`-th record (from `line` of a file, when known). */
  judge(value: unknown, index: number, line?: number): Verdict {
    const r = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    const reasons: string[] = [];
    if (r.type === 'message' && typeof r.sessionId === 'string' && this.#rejectedSessions.has(r.sessionId)) {
      reasons.push(`session_rejected: session ${JSON.stringify(r.sessionId)} is not written`);
    } else {
      try {
        return { record: validatePortableRecord(value, index), repairs: [] };
      } catch (error) {
        if (!ValidationError.isInstance(error)) throw error;
        reasons.push(error.message);
      }
      if (this.onInvalid === 'repair') {
        const repaired = this.#repair(r, index);
        if (repaired !== undefined) {
          const described = repaired.problems.map(describeProblem);
          if (repaired.record !== undefined) {
            try {
              return { record: validatePortableRecord(repaired.record, index), repairs: described };
            } catch (error) {
              if (!ValidationError.isInstance(error)) throw error;
              reasons.push(...described, `after repair: ${error.message}`);
            }
          } else reasons.push(...described);
        }
      }
    }
    if (r.type === 'session' && typeof r.id === 'string') this.#rejectedSessions.add(r.id);
    return {
      rejected: {
        ...(line === undefined ? {} : { line }),
        type: r.type,
        id: r.id,
        ...(r.type === 'message' ? { sessionId: r.sessionId } : {}),
        reasons,
        record: value,
      },
    };
  }

  /** The migrator's verdict on the record as a source row; `record` only when it is written. */
  #repair(
    r: Record<string, unknown>,
    index: number,
  ): { problems: RowProblem[]; record?: PortableRecord } | undefined {
    const metadata = r.metadata === undefined ? '{}' : metadataText(r.metadata);
    if (r.type === 'session') {
      const judged = judgeSession(
        {
          key: index,
          id: r.id,
          title: r.title ?? null,
          createdAt: r.createdAt,
          updatedAt: r.updatedAt ?? r.createdAt,
          metadata,
          ownerId: r.ownerId ?? null,
        },
        this.#context,
      );
      const row = judged.row;
      return {
        problems: judged.problems,
        ...(row && {
          record: {
            type: 'session',
            id: row.id,
            title: row.title,
            createdAt: row.createdAt,
            updatedAt: row.updatedAt,
            ownerId: row.ownerId,
            metadata: row.metadata,
          },
        }),
      };
    }
    if (r.type === 'message') {
      const judged = judgeMessage(
        {
          key: index,
          id: r.id,
          sessionId: r.sessionId,
          role: r.role,
          content: r.content,
          createdAt: r.createdAt,
          metadata,
          sessionFound: true,
        },
        this.#context,
      );
      const row = judged.row;
      return {
        problems: judged.problems,
        ...(row && {
          record: {
            type: 'message',
            id: row.id,
            sessionId: row.sessionId,
            role: row.role,
            content: typeof row.content === 'string' ? row.content : row.content.toString('utf8'),
            createdAt: row.createdAt,
            metadata: row.metadata,
          },
        }),
      };
    }
    return undefined;
  }
}

/** Metadata as the source text the migrator's rules read: an object as its JSON, a string as it is. */
function metadataText(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : value;
}

function describeProblem(p: RowProblem): string {
  return `${p.reason}: ${p.detail}${p.repair ? ` (repair: ${p.repair})` : ''}`;
}

/**
 * `value` described for an error line: `session "abc"` or `message "m1" of session "abc"`, with the file line
 * when known.
 */
export function describeRejected(rejected: RejectedRecord): string {
  const at = rejected.line === undefined ? '' : `line ${rejected.line}: `;
  const what =
    rejected.type === 'message'
      ? `message ${JSON.stringify(rejected.id)} of session ${JSON.stringify(rejected.sessionId)}`
      : `${String(rejected.type)} ${JSON.stringify(rejected.id)}`;
  return `${at}${what} (${rejected.reasons[0] ?? 'invalid'})`;
}

/**
 * The error for records refused under `--on-invalid fail`: names the first few, says nothing was written and
 * how to go on.
 */
export function invalidRecordsMessage(rejected: readonly RejectedRecord[], verb: string): string {
  const shown = rejected.slice(0, 5).map(describeRejected).join('; ');
  const more = rejected.length > 5 ? `; and ${rejected.length - 5} more` : '';
  return (
    `${rejected.length} record${rejected.length === 1 ? '' : 's'} the contract refuses, nothing ${verb}: ` +
    `${shown}${more}. Use --on-invalid repair (as migrate repairs: U+0000 removed, …) or --on-invalid skip ` +
    '(writes them to a rejects file)'
  );
}
