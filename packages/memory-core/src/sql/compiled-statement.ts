import { type Compilable, type CompiledQuery, createQueryId, type QueryResult } from 'kysely';
import type { Scope } from '../base-memory.js';

/** Runs one compiled statement, on whatever connection or transaction the caller holds. */
export type RunCompiled = <R>(query: CompiledQuery<R>) => Promise<QueryResult<R>>;

/** A statement compiled once: each call gives the compiled query with these parameter values. */
export type CompiledStatement<P, R = unknown> = (values: P) => CompiledQuery<R>;

/** A statement compiled once per scope shape (unowned, one owner's): each call gives the compiled query. */
export type ScopedStatement<P, R = unknown> = (scope: Scope, values: P) => CompiledQuery<R>;

/** Stands for a named parameter while a statement's shape is compiled. */
class Placeholder {
  constructor(readonly key: string) {}
}

/**
 * Builds and compiles a statement once, then only swaps in parameter values on each call. Building a Kysely
 * query and compiling it (with the plugins of the instance it was built on, such as a schema prefix) costs tens
 * of microseconds per statement, a noticeable part of a write that takes a few hundred; the SQL text of a given
 * shape never changes, so it is made once per store.
 *
 * `build` receives stand-ins for the parameters and must use each where a value goes, not inspect it; a value
 * the query fixes (a constant) is kept as compiled. Every value passed later must be defined: `undefined`
 * would be bound as NULL, not leave the column out as a Kysely insert does. Conditional parts make different
 * shapes: compile one statement per shape.
 */
export function compileOnce<P extends Record<string, unknown>, R = unknown>(
  build: (params: P) => Compilable<R>,
): CompiledStatement<P, R> {
  const used = new Set<string>();
  const params = new Proxy({} as P, {
    get(_target, key) {
      used.add(String(key));
      return new Placeholder(String(key));
    },
  });
  const { sql, query, parameters } = build(params).compile();
  const keys = parameters.map((value) => (value instanceof Placeholder ? value.key : undefined));
  for (const key of used) {
    // A dialect plugin that rewrote a value would leave its stand-in out of the parameters: fail at once
    // rather than run the statement with a constant where the caller's value belongs.
    if (!keys.includes(key)) throw new Error(`compileOnce: parameter ${key} is not a bound value`);
  }
  return (values) => ({
    sql,
    query,
    queryId: createQueryId(),
    parameters: keys.map((key, i) => (key === undefined ? parameters[i] : values[key])),
  });
}

const UNSCOPED: Scope = Object.freeze({ ownerId: null });

/**
 * {@link compileOnce} for a statement whose shape depends on the scope: `build` is compiled twice, for the
 * unowned store and for an owner (its id then a parameter, `ownerId`), and each call picks the shape of its scope.
 */
export function compileForScope<P extends Record<string, unknown>, R>(
  build: (params: P, scope: Scope) => Compilable<R>,
): ScopedStatement<P, R> {
  const unowned = compileOnce<P, R>((p) => build(p, UNSCOPED));
  const owned = compileOnce<P & { ownerId: string }, R>((p) => build(p, { ownerId: p.ownerId }));
  return (scope, values) =>
    scope.ownerId === null ? unowned(values) : owned({ ...values, ownerId: scope.ownerId });
}
