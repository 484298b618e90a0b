import { describe, expect, test } from 'vitest';
import {
  CONFORMANCE_CAPABILITIES,
  type ConformanceCase,
  conformanceAreas,
  conformanceCases,
  expectMemoryError,
  FAKE_CLOCK_START,
  FakeClock,
  planConformanceSuite,
  runConformanceCase,
  skipReasonOf,
  snapshotStore,
} from '../src/conformance/index.js';
import { largeMetadata, megabyteAscii, megabyteMixed } from '../src/conformance/samples.js';
import {
  type ConversationMemory,
  InMemoryConversationMemory,
  MemoryError,
  SessionNotFoundError,
  ValidationError,
} from '../src/index.js';

/** Every method of the contract; a case name starts with one of them (or with "all methods"). */
const CONTRACT_METHODS = [
  'createSession',
  'addMessage',
  'getHistory',
  'getHistoryPage',
  'getSessions',
  'getSessionsPage',
  'searchMessages',
  'capabilities',
  'contractVersion',
  'getSession',
  'updateSessionTitle',
  'deleteSession',
  'clearAll',
  'exportRecords',
  'importRecords',
  'check',
  'forOwner',
  'close',
] as const satisfies readonly (keyof ConversationMemory)[];

// A method added to the contract fails the typecheck here until the suite (and this list) covers it.
type Uncovered = Exclude<keyof ConversationMemory, (typeof CONTRACT_METHODS)[number]>;
const everyMethodListed: [Uncovered] extends [never] ? true : Uncovered = true;

/** A store whose close() is counted, and optionally fails. */
class CountingMemory extends InMemoryConversationMemory {
  static closes = 0;
  static failClose = false;
  override async close(): Promise<void> {
    CountingMemory.closes++;
    await super.close();
    if (CountingMemory.failClose) throw new Error('close failed');
  }
}

describe('the case list', () => {
  test('names are unique and read "<method> - <behaviour>" with a method of the contract', () => {
    const names = conformanceCases.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      const match = /^([A-Za-z ]+) - \S/.exec(name);
      expect(match, name).not.toBeNull();
      expect([...CONTRACT_METHODS, 'all methods'], name).toContain(match![1]);
    }
  });

  test('every area has cases, every capability needed is a known one', () => {
    expect(conformanceAreas.length).toBeGreaterThanOrEqual(12);
    for (const area of conformanceAreas) expect(area.cases.length, area.name).toBeGreaterThan(0);
    for (const c of conformanceCases) {
      for (const need of c.needs ?? []) expect(Object.keys(CONFORMANCE_CAPABILITIES), c.name).toContain(need);
    }
    expect(conformanceCases).toEqual(conformanceAreas.flatMap((a) => a.cases));
  });

  test('every public method of the contract is exercised by at least one case', () => {
    expect(everyMethodListed).toBe(true);
    const covered = new Set(conformanceCases.map((c) => c.name.split(' - ')[0]));
    for (const method of CONTRACT_METHODS) {
      expect(covered, method).toContain(method);
    }
  });

  test('the large samples are as large as the issue asks', () => {
    expect(JSON.stringify(largeMetadata()).length).toBeGreaterThan(100_000);
    expect(megabyteAscii()).toHaveLength(1_048_576);
    expect(Buffer.byteLength(megabyteMixed(), 'utf8')).toBeGreaterThan(1_000_000);
  });
});

describe('planConformanceSuite', () => {
  test('registers every case, none left out, whatever is skipped', () => {
    const plan = planConformanceSuite({ skip: { clock: 'server time', largeValues: 'item limit' } });
    expect(plan.map((p) => p.testCase)).toEqual(conformanceCases);
  });

  test('skipped cases carry the backend reason in their title', () => {
    const plan = planConformanceSuite({ skip: { clock: 'timestamps set by the server' } });
    const tie = plan.find((p) => p.testCase.name.startsWith('getHistory - hundreds of messages'))!;
    expect(tie.skipReason).toBe('timestamps set by the server');
    expect(tie.title).toBe(`${tie.testCase.name} (skipped: timestamps set by the server)`);
    const plain = plan.find((p) => p.testCase.name === 'getSessions - limit defaults to 50')!;
    expect(plain.skipReason).toBeUndefined();
    expect(plain.title).toBe(plain.testCase.name);
  });

  test('shared-database cases are skipped with the standard reason when openShared is absent', () => {
    const shared = planConformanceSuite().filter((p) => p.testCase.needs?.includes('sharedDatabase'));
    expect(shared.length).toBeGreaterThan(0);
    for (const p of shared) expect(p.skipReason).toBe('no shared database (in-memory)');
    const given = planConformanceSuite({
      openShared: async () => ({ open: async () => null!, destroy: async () => {} }),
    });
    for (const p of given.filter((x) => x.testCase.needs?.includes('sharedDatabase'))) {
      expect(p.skipReason).toBeUndefined();
    }
  });

  test('timeouts scale with timeoutMs and the case factor', () => {
    const plan = planConformanceSuite({ timeoutMs: 1_000 });
    const model = plan.find((p) => p.area === 'model')!;
    expect(model.timeoutMs).toBe(1_000 * (model.testCase.timeoutFactor ?? 1));
    expect(model.timeoutMs).toBeGreaterThan(1_000);
    expect(plan.find((p) => p.area === 'sessions')!.timeoutMs).toBe(1_000);
  });

  test('an empty reason falls back to the capability description', () => {
    const needsClock: ConformanceCase = { name: 'x - y', needs: ['clock'], run: async () => {} };
    expect(skipReasonOf(needsClock, { skip: { clock: '' } })).toBe(CONFORMANCE_CAPABILITIES.clock);
    expect(skipReasonOf(needsClock, {})).toBeUndefined();
  });
});

describe('runConformanceCase', () => {
  test('closes every store the case opened, also when the case fails', async () => {
    CountingMemory.closes = 0;
    CountingMemory.failClose = false;
    const failing: ConformanceCase = {
      name: 'x - fails',
      async run({ open }) {
        await open();
        await open();
        throw new Error('case failed');
      },
    };
    await expect(runConformanceCase(failing, () => new CountingMemory())).rejects.toThrow('case failed');
    expect(CountingMemory.closes).toBe(2);
  });

  test('a close() that fails fails the case, but the case failure is reported first', async () => {
    CountingMemory.failClose = true;
    try {
      const passing: ConformanceCase = { name: 'x - passes', run: async ({ open }) => void (await open()) };
      await expect(runConformanceCase(passing, () => new CountingMemory())).rejects.toThrow('close failed');
      const failing: ConformanceCase = {
        name: 'x - fails',
        run: async ({ open }) => {
          await open();
          throw new Error('case failed');
        },
      };
      await expect(runConformanceCase(failing, () => new CountingMemory())).rejects.toThrow('case failed');
    } finally {
      CountingMemory.failClose = false;
    }
  });

  test('passes the clock to the factory only when the case asks for it', async () => {
    const seen: unknown[] = [];
    const factory = ({ clock }: { clock?: () => Date }) => {
      seen.push(clock);
      return new InMemoryConversationMemory({ clock });
    };
    await runConformanceCase(
      {
        name: 'x - clock',
        async run({ open, clock }) {
          await open();
          const store = await open({ clock: clock.now });
          await store.createSession({ id: 's' });
          expect((await store.getSession('s'))?.createdAt.getTime()).toBe(FAKE_CLOCK_START);
        },
      },
      factory,
    );
    expect(seen[0]).toBeUndefined();
    expect(typeof seen[1]).toBe('function');
  });

  test('destroys shared databases after closing their instances', async () => {
    const events: string[] = [];
    const options = {
      openShared: async () => ({
        open: async () => {
          const store = new InMemoryConversationMemory();
          const close = store.close.bind(store);
          store.close = async () => {
            events.push('close');
            await close();
          };
          return store as ConversationMemory;
        },
        destroy: async () => void events.push('destroy'),
      }),
    };
    await runConformanceCase(
      {
        name: 'x - shared',
        needs: ['sharedDatabase'],
        async run({ openShared }) {
          const db = await openShared();
          await db.open();
          await db.open();
        },
      },
      () => new InMemoryConversationMemory(),
      options,
    );
    expect(events).toEqual(['close', 'close', 'destroy']);
  });

  test('gives each case a fresh fake clock at FAKE_CLOCK_START and the model options', async () => {
    const seen: [number, number, number | undefined][] = [];
    const probe: ConformanceCase = {
      name: 'x - probe',
      async run({ clock, modelRuns, modelSeed }) {
        seen.push([clock.time, modelRuns, modelSeed]);
        clock.advance(5);
      },
    };
    await runConformanceCase(probe, () => new InMemoryConversationMemory());
    await runConformanceCase(probe, () => new InMemoryConversationMemory(), { modelRuns: 3, modelSeed: 9 });
    expect(seen).toEqual([
      [FAKE_CLOCK_START, 25, undefined],
      [FAKE_CLOCK_START, 3, 9],
    ]);
  });
});

describe('expectMemoryError', () => {
  test('returns the error when code (and field) match, from a rejection or a synchronous throw', async () => {
    const error = await expectMemoryError(() => Promise.reject(new ValidationError('limit', 'bad')), {
      code: 'VALIDATION_FAILED',
      field: 'limit',
    });
    expect(error.code).toBe('VALIDATION_FAILED');
    await expectMemoryError(
      () => {
        throw new SessionNotFoundError('x');
      },
      { code: 'SESSION_NOT_FOUND' },
    );
    await expectMemoryError(() => Promise.reject(new ValidationError('metadata.a.b', 'bad')), {
      code: 'VALIDATION_FAILED',
      field: /^metadata\./,
    });
  });

  test('fails on success, on another code, on another field and on a plain Error', async () => {
    await expect(expectMemoryError(() => Promise.resolve(1), { code: 'CONFLICT' })).rejects.toThrow();
    await expect(
      expectMemoryError(() => Promise.reject(new SessionNotFoundError('x')), { code: 'CONFLICT' }),
    ).rejects.toThrow();
    await expect(
      expectMemoryError(() => Promise.reject(new ValidationError('id', 'bad')), {
        code: 'VALIDATION_FAILED',
        field: 'sessionId',
      }),
    ).rejects.toThrow();
    await expect(
      expectMemoryError(() => Promise.reject(new Error('SESSION_NOT_FOUND')), { code: 'SESSION_NOT_FOUND' }),
    ).rejects.toThrow();
    await expect(
      expectMemoryError(() => Promise.reject(new MemoryError('MEMORY_ERROR', 'x')), {
        code: 'VALIDATION_FAILED',
        field: 'id',
      }),
    ).rejects.toThrow();
  });

  test('drains an async iterable to reach its error', async () => {
    async function* failing() {
      yield 1;
      throw new ValidationError('sessionIds', 'bad');
    }
    await expectMemoryError(() => failing(), { code: 'VALIDATION_FAILED', field: 'sessionIds' });
    async function* fine() {
      yield 1;
    }
    await expect(expectMemoryError(() => fine(), { code: 'VALIDATION_FAILED' })).rejects.toThrow();
  });
});

describe('FakeClock', () => {
  test('moves only when told, forwards and back, and hands out fresh Dates', () => {
    const clock = new FakeClock(1_000);
    const first = clock.now();
    first.setTime(0);
    expect(clock.now().getTime()).toBe(1_000);
    clock.advance(5);
    expect(clock.now().getTime()).toBe(1_005);
    clock.advance(-10);
    expect(clock.time).toBe(995);
    clock.set(new Date(42));
    expect(clock.now().getTime()).toBe(42);
    const { now } = clock;
    expect(now().getTime()).toBe(42);
    expect(new FakeClock().time).toBe(FAKE_CLOCK_START);
  });
});

describe('snapshotStore', () => {
  test('reads every session past the 1,000 page limit, with every history', async () => {
    const store = new InMemoryConversationMemory();
    for (let i = 0; i < 1_003; i++) await store.createSession({ id: `s${i}` });
    await store.addMessage('s7', { role: 'user', content: 'x' });
    const snapshot = await snapshotStore(store);
    expect(snapshot.sessions).toHaveLength(1_003);
    expect(Object.keys(snapshot.histories)).toHaveLength(1_003);
    expect(snapshot.histories.s7?.map((m) => m.content)).toEqual(['x']);
  });
});
