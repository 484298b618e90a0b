/**
 * `@flux-rag/memory-core/testing`: helpers for tests, benchmarks and data generators that must load in a plain
 * Node process (no vitest, unlike `./conformance`).
 */
export { seededRandom } from './seeded-random.js';
