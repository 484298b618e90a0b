import { describe, expect, test } from 'vitest';
import {
  CONFORMANCE_CAPABILITIES,
  CONFORMANCE_TRAITS,
  type ConformanceCase,
  type ConformanceContext,
  conformanceAreas,
  conformanceCases,
  expectMemoryError,
  FAKE_CLOCK_START,
  FakeClock,
  OTHER_OWNER,
  planConformanceSuite,
  runConformanceCase,
  SEEDED_SESSION_IDS,
  STORE_CAPABILITIES,
  skipReasonOf,
  snapshotStore,
  VIEW_OWNER,
} from '../src/conformance/index.js';
import { largeMetadata, megabyteAscii, megabyteMixed } from '../src/conformance/samples.js';
import {
  type ConversationMemory,
  InMemoryConversationMemory,
  type MemoryCapabilities,
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
  'upsertMessages',
  'rewriteHistory',
  'deleteMessages',
  'popMessage',
  'getHistoryDigests',
  'updateSession',
  'purgeSessions',
] as const satisfies readonly (keyof ConversationMemory)[];

// A method added to the contract fails the typecheck here until the suite (and this list) covers it.
type Uncovered = Exclude<keyof ConversationMemory, (typeof CONTRACT_METHODS)[number]>;
const everyMethodListed: [Uncovered] extends [never] ? true : Uncovered = true;

/** The two capabilities these cases vary, the others as the in-memory store has them. */
function capabilities(metadataFilter: boolean, fullTextSearch: boolean): MemoryCapabilities {
  return { ...new InMemoryConversationMemory().capabilities, metadataFilter, fullTextSearch };
}

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

/** An in-memory store that reports the capabilities it is given (all of them work, but the suite must listen). */
class DeclaringMemory extends InMemoryConversationMemory {
  static declared: MemoryCapabilities = capabilities(true, true);
  override get capabilities(): MemoryCapabilities {
    return DeclaringMemory.declared;
  }
}

/** The names cases run under in view mode: their own, or their view variant's. */
const viewNames = conformanceCases.flatMap((c) =>
  c.onView === undefined ? [c.name] : 'name' in c.onView ? [c.onView.name] : [],
);

describe('the case list', () => {
  test('names are unique and read "<method> - <behaviour>" with a method of the contract', () => {
    const names = conformanceCases.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(viewNames).size).toBe(viewNames.length);
    for (const name of [...names, ...viewNames]) {
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
  test('registers every case in both modes, none left out, whatever is skipped', () => {
    const plan = planConformanceSuite({ skip: { clock: 'server time', largeValues: 'item limit' } });
    expect(plan.filter((p) => p.mode === 'store').map((p) => p.testCase)).toEqual(conformanceCases);
    expect(plan.filter((p) => p.mode === 'view').map((p) => p.testCase)).toEqual(conformanceCases);
    expect(plan).toHaveLength(2 * conformanceCases.length);
  });

  test('the view mode uses the view variants: their names, or their skip reason in the title', () => {
    const view = planConformanceSuite().filter((p) => p.mode === 'view');
    const adapted = view.filter((p) => p.testCase.onView !== undefined);
    expect(adapted.length).toBeGreaterThanOrEqual(13);
    for (const p of adapted) {
      const variant = p.testCase.onView!;
      if ('name' in variant) expect(p.title).toBe(variant.name);
      else expect(p.title).toBe(`${p.testCase.name} (skipped: ${variant.skip})`);
    }
    // Few cases do not apply to a view at all; every other one runs there, as written or adapted.
    expect(view.filter((p) => p.skipReason !== undefined && !p.testCase.needs?.length)).toHaveLength(0);
    expect(view.filter((p) => p.testCase.onView && 'skip' in p.testCase.onView)).toHaveLength(1);
  });

  test('options.modes leaves a mode registered, every case of it skipped with the reason', () => {
    const plan = planConformanceSuite({ modes: ['store'] });
    expect(
      plan
        .filter((p) => p.mode === 'view')
        .every((p) => p.skipReason === 'mode not selected in options.modes'),
    ).toBe(true);
    expect(plan.filter((p) => p.mode === 'store' && p.skipReason === undefined).length).toBeGreaterThan(500);
  });

  test('store capabilities are not skip keys: the plan lists them as read from the store', () => {
    const plan = planConformanceSuite();
    const search = plan.filter((p) => p.testCase.needs?.includes('fullTextSearch'));
    expect(search.length).toBeGreaterThan(5);
    for (const p of search) {
      expect(p.skipReason).toBeUndefined();
      expect(p.needsFromStore).toContain('fullTextSearch');
    }
    for (const key of Object.keys(STORE_CAPABILITIES)) {
      const skip = { [key]: 'declared the old way' } as never;
      expect(() => planConformanceSuite({ skip }), key).toThrow(`reads ${key} from store.capabilities`);
    }
    expect(() => planConformanceSuite({ skip: { clockwork: 'x' } as never })).toThrow('not a trait');
    expect(Object.keys(CONFORMANCE_CAPABILITIES).sort()).toEqual(
      [...Object.keys(CONFORMANCE_TRAITS), ...Object.keys(STORE_CAPABILITIES)].sort(),
    );
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
    const shared = planConformanceSuite().filter(
      (p) => p.testCase.needs?.includes('sharedDatabase') && !(p.mode === 'view' && p.testCase.onView),
    );
    expect(shared.length).toBeGreaterThan(0);
    for (const p of shared) expect(p.skipReason).toBe('no shared database (in-memory)');
    const given = planConformanceSuite({
      openShared: async () => ({ open: async () => null!, destroy: async () => {} }),
    });
    for (const p of given.filter(
      (x) => x.testCase.needs?.includes('sharedDatabase') && !(x.mode === 'view' && x.testCase.onView),
    )) {
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

describe('capabilities read from the store', () => {
  const probe = (ran: string[]): ConformanceCase => ({
    name: 'searchMessages - probe',
    needs: ['fullTextSearch'],
    async run({ open }) {
      await open();
      ran.push('ran');
    },
  });

  for (const mode of ['store', 'view'] as const) {
    test(`a store reporting a capability false skips the cases needing it, with the reason, before they run (${mode})`, async () => {
      const ran: string[] = [];
      DeclaringMemory.declared = capabilities(true, false);
      try {
        const result = await runConformanceCase(probe(ran), () => new DeclaringMemory(), {}, mode);
        expect(result).toEqual({
          status: 'skipped',
          reason: expect.stringContaining('capabilities.fullTextSearch = false'),
        });
        expect(ran).toEqual([]);
        DeclaringMemory.declared = capabilities(true, true);
        expect(await runConformanceCase(probe(ran), () => new DeclaringMemory(), {}, mode)).toEqual({
          status: 'passed',
        });
        expect(ran).toEqual(['ran']);
      } finally {
        DeclaringMemory.declared = capabilities(true, true);
      }
    });
  }

  test('a skipped case is never reported as passed, even when its body swallows the error', async () => {
    DeclaringMemory.declared = capabilities(false, true);
    try {
      const swallowing: ConformanceCase = {
        name: 'getSessions - swallows',
        needs: ['metadataFilter'],
        async run({ open }) {
          await open().catch(() => undefined);
        },
      };
      const result = await runConformanceCase(swallowing, () => new DeclaringMemory());
      expect(result.status).toBe('skipped');
    } finally {
      DeclaringMemory.declared = capabilities(true, true);
    }
  });
});

describe('view mode', () => {
  const inView = (run: (context: ConformanceContext) => Promise<void>) =>
    runConformanceCase({ name: 'x - view', run }, () => new InMemoryConversationMemory(), {}, 'view');

  test("hands the case an owner view of a store holding another owner's and unowned rows", async () => {
    const seen: unknown[] = [];
    await inView(async ({ open, unscoped, mode, ownerId }) => {
      const view = await open();
      seen.push(mode, ownerId);
      expect(await view.getSessions()).toEqual([]);
      await view.createSession({ id: 'mine' });
      expect((await view.getSession('mine'))?.ownerId).toBe(VIEW_OWNER);
      expect(() => view.forOwner('anyone')).toThrow();
      const all = await unscoped(view).getSessions();
      expect(all.map((s) => [s.id, s.ownerId]).sort()).toEqual([
        ['mine', VIEW_OWNER],
        ['no-owner-1', null],
        ['other-owner-1', OTHER_OWNER],
        ['other-owner-2', OTHER_OWNER],
      ]);
      expect([...SEEDED_SESSION_IDS].sort()).toEqual(['no-owner-1', 'other-owner-1', 'other-owner-2']);
    });
    expect(seen).toEqual(['view', VIEW_OWNER]);
  });

  test("fails a case that changed, removed or added another owner's or unowned rows", async () => {
    const changes: [string, (store: ConversationMemory) => Promise<unknown>][] = [
      ['deleted', (store) => store.deleteSession('other-owner-2')],
      ['renamed', (store) => store.updateSessionTitle('no-owner-1', 'changed')],
      ['message added', (store) => store.addMessage('other-owner-1', { role: 'user', content: 'x' })],
      ['unowned session added', (store) => store.createSession({ id: 'stray' })],
      ['session of the other owner added', (store) => store.forOwner(OTHER_OWNER).createSession()],
      ['cleared', (store) => store.clearAll()],
    ];
    for (const [what, change] of changes) {
      await expect(
        inView(async ({ open, unscoped }) => {
          await change(unscoped(await open()));
        }),
        what,
      ).rejects.toThrow("changed another owner's");
    }
    // Rows of the view's own owner are the case's business.
    await inView(async ({ open }) => {
      const view = await open();
      await view.createSession({ id: 'mine' });
      await view.clearAll();
    });
  });

  test('close(store) checks the other owners, then closes the view and the store behind it', async () => {
    const closed: string[] = [];
    class Closing extends InMemoryConversationMemory {
      override async close() {
        closed.push('store');
        await super.close();
      }
    }
    await runConformanceCase(
      {
        name: 'x - close',
        async run({ open, close }) {
          const view = await open();
          await close(view);
          await expectMemoryError(() => view.getSessions(), { code: 'MEMORY_CLOSED' });
        },
      },
      () => new Closing(),
      {},
      'view',
    );
    expect(closed).toEqual(['store']);
    await expect(
      inView(async ({ open, unscoped, close }) => {
        const view = await open();
        await unscoped(view).deleteSession('other-owner-1');
        await close(view);
      }),
    ).rejects.toThrow("changed another owner's");
  });

  test('runs the view variant of a case in view mode, and skips one that does not apply, with its reason', async () => {
    const ran: string[] = [];
    const adapted: ConformanceCase = {
      name: 'x - as written',
      run: async () => void ran.push('store'),
      onView: { name: 'x - adapted', run: async () => void ran.push('view') },
    };
    await runConformanceCase(adapted, () => new InMemoryConversationMemory(), {}, 'store');
    await runConformanceCase(adapted, () => new InMemoryConversationMemory(), {}, 'view');
    expect(ran).toEqual(['store', 'view']);
    const notOnViews: ConformanceCase = { name: 'x - y', run: async () => {}, onView: { skip: 'why not' } };
    expect(await runConformanceCase(notOnViews, () => new InMemoryConversationMemory(), {}, 'view')).toEqual({
      status: 'skipped',
      reason: 'why not',
    });
    expect(skipReasonOf(notOnViews, {}, 'view')).toBe('why not');
    expect(skipReasonOf(notOnViews, {}, 'store')).toBeUndefined();
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
