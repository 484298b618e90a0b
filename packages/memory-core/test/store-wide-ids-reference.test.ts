import { describe, expect, test } from 'vitest';
import { StoreWideIdsReference } from '../src/conformance/model/store-wide-ids-reference.js';
import { ConflictError, SessionNotFoundError } from '../src/errors.js';

// The model test's reference for backends with contract 1.0's store-wide message ids (the consumer's
// third-party backend): it must fail the way such a backend fails, or the model test fails on them at random.
describe('StoreWideIdsReference', () => {
  const error = (promise: Promise<unknown>) =>
    promise.then(
      () => null,
      (caught: unknown) => caught,
    );

  test('an id used in another session is a ConflictError', async () => {
    const store = new StoreWideIdsReference();
    const a = await store.createSession();
    const b = await store.createSession();
    await store.addMessage(a, { id: 'm1', role: 'user', content: 'x' });
    expect(
      ConflictError.isInstance(await error(store.addMessage(b, { id: 'm1', role: 'user', content: 'x' }))),
    ).toBe(true);
    expect(await store.getHistory(b)).toEqual([]);
  });

  test('an equal message under an id already stored in the same session is still a ConflictError', async () => {
    const store = new StoreWideIdsReference();
    const a = await store.createSession();
    await store.addMessage(a, { id: 'm1', role: 'user', content: 'x' });
    expect(
      ConflictError.isInstance(await error(store.addMessage(a, { id: 'm1', role: 'user', content: 'x' }))),
    ).toBe(true);
  });

  test('a taken id sent to a missing session is SessionNotFoundError: the session is checked first', async () => {
    const store = new StoreWideIdsReference();
    const a = await store.createSession();
    await store.addMessage(a, { id: 'm1', role: 'user', content: 'x' });
    const caught = await error(store.addMessage('missing', { id: 'm1', role: 'user', content: 'x' }));
    expect(SessionNotFoundError.isInstance(caught)).toBe(true);
  });
});
