import { expect } from 'vitest';
import type { ConversationMemory } from '../../conversation-memory.js';
import type { ConformanceCase } from '../conformance-case.js';
import { FAR_TIME_ZONES, setTimeZone } from '../time-zone.js';

/** A contract timestamp: a valid `Date` of whole milliseconds. */
function expectTimestamp(value: unknown, label: string): asserts value is Date {
  expect(value, label).toBeInstanceOf(Date);
  const time = (value as Date).getTime();
  expect(Number.isNaN(time), `${label} is an invalid Date`).toBe(false);
  expect(time % 1, `${label} has sub-millisecond precision`).toBe(0);
}

/** Every timestamp the store shows, labelled, in a stable order. */
async function allTimestamps(store: ConversationMemory): Promise<[string, number | null][]> {
  const result: [string, number | null][] = [];
  for (const summary of await store.getSessions({ limit: 1000 })) {
    const session = await store.getSession(summary.id);
    result.push([`${summary.id}.createdAt`, summary.createdAt.getTime()]);
    result.push([`${summary.id}.updatedAt`, summary.updatedAt.getTime()]);
    result.push([`${summary.id}.lastMessageAt`, summary.lastMessageAt?.getTime() ?? null]);
    result.push([`${summary.id} getSession.createdAt`, session?.createdAt.getTime() ?? null]);
    result.push([`${summary.id} getSession.updatedAt`, session?.updatedAt.getTime() ?? null]);
    for (const message of await store.getHistory(summary.id)) {
      result.push([`${message.id}.createdAt`, message.createdAt.getTime()]);
    }
  }
  return result;
}

// Around the 2025 daylight-saving switch of America/Adak (2025-03-09 02:00 local = 12:00 UTC), at the edges
// of a millisecond's second, and past 2038 (32-bit epoch seconds overflow).
const AWKWARD_TIMES = [
  Date.UTC(2025, 2, 9, 11, 59, 59, 999),
  Date.UTC(2025, 2, 9, 12, 0, 0, 1),
  Date.UTC(2025, 10, 2, 11, 30, 0, 500),
  Date.UTC(2038, 0, 19, 3, 14, 8, 1),
  Date.UTC(2099, 11, 31, 23, 59, 59, 999),
];

function timeZoneCase(zone: string): ConformanceCase {
  const other = FAR_TIME_ZONES.find((z) => z !== zone)!;
  return {
    name: `addMessage - timestamps are unchanged when TZ is ${zone} while writing and reading`,
    async run({ open }) {
      const restore = setTimeZone(zone);
      try {
        // Opened under the far zone too, so a driver that reads TZ when it connects is caught.
        const store = await open();
        const before = Date.now();
        await store.createSession({ id: 'tz' });
        await store.addMessage('tz', { id: 'tz-m1', role: 'user', content: 'x' });
        await store.addMessage('tz', { id: 'tz-m2', role: 'assistant', content: 'y' });
        const after = Date.now();
        const written = await allTimestamps(store);
        for (const [label, time] of written) {
          expect(time, label).not.toBeNull();
          expect(time!, `${label} shifted (written under ${zone})`).toBeGreaterThanOrEqual(before);
          expect(time!, `${label} shifted (written under ${zone})`).toBeLessThanOrEqual(after);
        }
        for (const readZone of [other, 'UTC']) {
          process.env.TZ = readZone;
          expect(await allTimestamps(store), `read under ${readZone}`).toEqual(written);
        }
      } finally {
        restore();
      }
    },
  };
}

/** Timestamps: UTC `Date`s of millisecond precision, from the clock, ordered, and immune to `TZ`. */
export const timestampCases: ConformanceCase[] = [
  {
    name: "createSession - createdAt and updatedAt are Dates equal to the clock's time",
    needs: ['clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      for (const [i, time] of AWKWARD_TIMES.entries()) {
        clock.set(time);
        await store.createSession({ id: `s${i}` });
        const session = await store.getSession(`s${i}`);
        expectTimestamp(session?.createdAt, 'createdAt');
        expectTimestamp(session?.updatedAt, 'updatedAt');
        expect(session.createdAt.toISOString()).toBe(new Date(time).toISOString());
        expect(session.updatedAt.getTime()).toBe(time);
      }
    },
  },
  {
    name: "addMessage - createdAt is a Date equal to the clock's time, and the session's activity follows it",
    needs: ['clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      await store.createSession({ id: 's' });
      for (const time of AWKWARD_TIMES) {
        clock.set(time);
        await store.addMessage('s', { role: 'user', content: String(time) });
        const [summary] = await store.getSessions();
        expect(summary?.updatedAt.getTime()).toBe(time);
        expect(summary?.lastMessageAt?.getTime()).toBe(time);
      }
      const history = await store.getHistory('s');
      for (const [i, message] of history.entries()) {
        expectTimestamp(message.createdAt, `message ${i}`);
        expect(message.createdAt.toISOString()).toBe(new Date(AWKWARD_TIMES[i]!).toISOString());
      }
    },
  },
  {
    name: "updateSessionTitle - sets updatedAt to the clock's time and keeps createdAt",
    needs: ['clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      const created = clock.time;
      await store.createSession({ id: 's' });
      clock.advance(86_400_000 + 123);
      await store.updateSessionTitle('s', 'later');
      const session = await store.getSession('s');
      expect(session?.createdAt.getTime()).toBe(created);
      expect(session?.updatedAt.getTime()).toBe(created + 86_400_123);
    },
  },
  {
    name: 'addMessage - a clock stepping backwards never makes a message older than the one before it',
    needs: ['clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      await store.createSession({ id: 's' });
      const steps = [5, -3, 2, -10, 0, 1, -1, 4];
      for (const [i, step] of steps.entries()) {
        clock.advance(step);
        await store.addMessage('s', { role: 'user', content: `${i}` });
      }
      const history = await store.getHistory('s');
      expect(history.map((m) => m.content)).toEqual(steps.map((_, i) => `${i}`));
      const times = history.map((m) => m.createdAt.getTime());
      for (let i = 1; i < times.length; i++)
        expect(times[i]!, `message ${i}`).toBeGreaterThanOrEqual(times[i - 1]!);
    },
  },
  {
    name: "createSession - with the system clock, timestamps lie between the call's start and end",
    async run({ open }) {
      const store = await open();
      const before = Date.now();
      const id = await store.createSession();
      await store.addMessage(id, { role: 'user', content: 'x' });
      const after = Date.now();
      for (const [label, time] of await allTimestamps(store)) {
        expect(time, label).toBeGreaterThanOrEqual(before);
        expect(time, label).toBeLessThanOrEqual(after);
      }
    },
  },
  {
    name: 'getHistory - createdAt never decreases along the history with the system clock',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      for (let i = 0; i < 100; i++) {
        await store.addMessage('s', { role: 'user', content: `${i}` });
        if (i % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const history = await store.getHistory('s');
      for (const [i, message] of history.entries()) expectTimestamp(message.createdAt, `message ${i}`);
      const times = history.map((m) => m.createdAt.getTime());
      expect([...times].sort((a, b) => a - b)).toEqual(times);
    },
  },
  ...FAR_TIME_ZONES.map(timeZoneCase),
  {
    name: "addMessage - under far time zones, timestamps still equal the clock's time exactly",
    needs: ['clock'],
    async run({ open, clock }) {
      const restore = setTimeZone(FAR_TIME_ZONES[0]);
      try {
        const store = await open({ clock: clock.now });
        await store.createSession({ id: 's' });
        for (const [i, time] of AWKWARD_TIMES.entries()) {
          process.env.TZ = FAR_TIME_ZONES[i % 2];
          clock.set(time);
          await store.addMessage('s', { role: 'user', content: `${i}` });
        }
        for (const zone of [...FAR_TIME_ZONES, 'UTC']) {
          process.env.TZ = zone;
          const times = (await store.getHistory('s')).map((m) => m.createdAt.getTime());
          expect(times, `read under ${zone}`).toEqual(AWKWARD_TIMES);
        }
      } finally {
        restore();
      }
    },
  },
];
