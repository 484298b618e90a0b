import { expect } from 'vitest';
import type { ConformanceCase } from '../conformance-case.js';

/** A URL with a password still in it (`scheme://user:secret@`); `***` is the masked form. */
const UNMASKED_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:(?!\*\*\*@)[^@\s]+@/i;

/** `check`: the health report of a working store. */
export const healthCases: ConformanceCase[] = [
  {
    name: 'check - reports a reachable store with its backend, location and exact row counts',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'a' });
      await store.createSession({ id: 'b' });
      for (let i = 0; i < 3; i++) await store.addMessage('a', { role: 'user', content: `${i}` });
      const health = await store.check();
      expect(health).toMatchObject({ reachable: true, sessions: 2, messages: 3 });
      expect(health.backend).toEqual(expect.any(String));
      expect(health.backend.length).toBeGreaterThan(0);
      expect(health.location).toEqual(expect.any(String));
      expect(health.location).not.toMatch(UNMASKED_PASSWORD);
      expect(health.error).toBeUndefined();
    },
  },
  {
    name: 'check - an empty store reports zero rows, and deletions are counted',
    async run({ open }) {
      const store = await open();
      expect(await store.check()).toMatchObject({ reachable: true, sessions: 0, messages: 0 });
      await store.createSession({ id: 'a' });
      await store.addMessage('a', { role: 'user', content: 'x' });
      await store.deleteSession('a');
      expect(await store.check()).toMatchObject({ reachable: true, sessions: 0, messages: 0 });
    },
  },
];
