import { type Compilable, type CompiledQuery, createQueryId, type QueryResult } from 'kysely';

/** Runs one compiled statement, on whatever connection or transaction the caller holds. */
export type RunCompiled = <R>(query: CompiledQuery<R>) => Promise<QueryResult<R>>;

/** A statement compiled once: each call gives the compiled query with these parameter values. */
export type CompiledStatement<P> = (values: P) => CompiledQuery;

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
export function compileOnce<P extends Record<string, unknown>>(
  build: (params: P) => Compilable<unknown>,
): CompiledStatement<P> {
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
