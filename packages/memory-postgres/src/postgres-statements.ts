import { createHash } from 'node:crypto';
import type { PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/** Distinct statements a pool names; past this, statements run unnamed (IN lists of every length, say). */
const MAX_NAMED_STATEMENTS = 256;

/** What the store keeps per pg client: the suffix of its statement names, and whether a transaction is open. */
interface ClientState {
  generation: number;
  inTransaction: boolean;
}

/**
 * Runs the store's parameterised statements as named prepared statements, so the server parses and plans each
 * one once per connection instead of on every call (the raw-pg baseline of the benchmark does the same). A
 * statement's name is a hash of its text, so stores sharing a pool agree on names and pg never sees a name
 * reused for another text.
 *
 * A prepared `SELECT *` fails with "cached plan must not change result type" once another process has added
 * a column (a newer version migrating the schema). Outside a transaction the statement is then prepared again
 * under a new name and retried; inside one the error stands (the transaction is aborted anyway), and the next
 * call prepares afresh. The store's transactions only write, whose result type cannot change.
 */
export class PreparedStatements {
  readonly #names = new Map<string, string>();
  readonly #wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();

  /**
   * Wraps a checked-out client for Kysely; `release` and `processID` pass through to it. A client gets one
   * wrapper for its lifetime, reused at every checkout.
   */
  wrap(client: pg.PoolClient): PostgresPoolClient {
    let wrapped = this.#wrapped.get(client);
    if (!wrapped) {
      const state: ClientState = { generation: 0, inTransaction: false };
      wrapped = {
        query: ((text: string, values?: readonly unknown[]) =>
          this.#query(client, state, text, values)) as unknown as PostgresPoolClient['query'],
        // Kysely passes `true` for a connection it discarded: pg-pool then destroys it instead of reusing it.
        release: (destroy?: boolean) => client.release(destroy),
        get processID() {
          return (client as unknown as { processID?: number }).processID;
        },
      } as PostgresPoolClient;
      this.#wrapped.set(client, wrapped);
    }
    return wrapped;
  }

  #query(client: pg.PoolClient, state: ClientState, text: string, values: readonly unknown[] | undefined) {
    if (typeof text !== 'string') return client.query(text as never);
    const name = values && values.length > 0 ? this.#nameOf(text) : undefined;
    if (name === undefined) {
      const command = text.trimStart().slice(0, 8).toLowerCase();
      if (command.startsWith('begin') || command.startsWith('start')) state.inTransaction = true;
      else if (command.startsWith('commit') || command.startsWith('rollback')) state.inTransaction = false;
      return client.query(text, values as unknown[]);
    }
    const run = () =>
      client.query({ name: `${name}_${state.generation}`, text, values: values as unknown[] });
    if (state.inTransaction) return run();
    return run().catch((error: unknown) => {
      if (!isStalePlan(error)) throw error;
      state.generation++;
      return run();
    });
  }

  #nameOf(text: string): string | undefined {
    let name = this.#names.get(text);
    if (name === undefined && this.#names.size < MAX_NAMED_STATEMENTS) {
      name = `flux_rag_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
      this.#names.set(text, name);
    }
    return name;
  }
}

/** PostgreSQL's refusal to run a prepared statement whose result columns changed since it was prepared. */
function isStalePlan(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === '0A000' && typeof message === 'string' && message.includes('cached plan must not change');
}
