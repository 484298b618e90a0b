import { expect } from 'vitest';
import type { ConversationMemory } from '../../conversation-memory.js';
import { MemoryError, ValidationError } from '../../errors.js';
import type { Message, Session, SessionSummary } from '../../types.js';
import type { FakeClock } from '../fake-clock.js';
import { UUID_V4 } from '../samples.js';
import { snapshotStore } from '../store-snapshot.js';
import type { MessageIdChoice, ModelCommand, SessionRef } from './model-commands.js';

/** What a call showed: its value with only the contract's fields, or its error's code (and field). */
export type Outcome = { ok: unknown } | { error: string; field?: string; message?: string };

function pick(value: object, keys: readonly string[]): Record<string, unknown> {
  const source = value as Record<string, unknown>;
  return Object.fromEntries(keys.map((key) => [key, source[key]]));
}

const SESSION_KEYS = ['id', 'title', 'createdAt', 'updatedAt', 'metadata', 'ownerId'] as const;
const SUMMARY_KEYS = [...SESSION_KEYS, 'messageCount', 'lastMessageAt'] as const;
const MESSAGE_KEYS = [
  'id',
  'sessionId',
  'role',
  'content',
  'createdAt',
  'metadata',
  'payload',
  'format',
] as const;

/** Keeps the contract's fields only, so that an extra field a backend adds is not a difference. */
export const view = {
  session: (s: Session | null) => (s === null ? null : pick(s, SESSION_KEYS)),
  summaries: (list: SessionSummary[]) => list.map((s) => pick(s, SUMMARY_KEYS)),
  messages: (list: Message[]) => list.map((m) => pick(m, MESSAGE_KEYS)),
};

/** Runs a call and describes what happened, errors by their stable code (and field, for validation). */
export async function outcomeOf<T>(
  call: () => Promise<T>,
  shape: (value: T) => unknown = (v) => v,
): Promise<Outcome> {
  try {
    return { ok: shape(await call()) };
  } catch (error) {
    if (!MemoryError.isInstance(error)) return { error: 'NOT_A_MEMORY_ERROR', message: String(error) };
    return ValidationError.isInstance(error)
      ? { error: error.code, field: error.field }
      : { error: error.code };
  }
}

/** Ids known during one replay: sessions created without an id, and message ids used so far. */
interface ReplayState {
  generatedSessions: string[];
  messageIds: string[];
  nextMessage: number;
}

function resolveSession(ref: SessionRef, state: ReplayState): string {
  if (ref.kind === 'pool') return ref.id;
  if (state.generatedSessions.length === 0) return 'missing-generated';
  return state.generatedSessions[ref.index % state.generatedSessions.length]!;
}

function resolveMessageId(choice: MessageIdChoice, state: ReplayState): string | undefined {
  if (choice.kind === 'generated') return undefined;
  if (choice.kind === 'reuse' && state.messageIds.length > 0) {
    return state.messageIds[choice.index % state.messageIds.length];
  }
  return `m${state.nextMessage++}`;
}

/**
 * Applies `commands` to the backend under test and to the reference, step by step on one fake clock, and
 * expects the same outcome at every step and the same content at the end. An id the backend generates is
 * handed to the reference explicitly, so both stores hold the same ids.
 */
export async function replay(
  commands: readonly ModelCommand[],
  backend: ConversationMemory,
  reference: ConversationMemory,
  clock: FakeClock,
): Promise<void> {
  const state: ReplayState = { generatedSessions: [], messageIds: [], nextMessage: 0 };
  for (const [step, command] of commands.entries()) {
    if ('advance' in command) clock.advance(command.advance);
    const label = `step ${step}: ${JSON.stringify(command)}`;
    const [got, want] = await run(command, backend, reference, state);
    expect(got, label).toEqual(want);
  }
  const [got, want] = [await snapshotStore(backend), await snapshotStore(reference)];
  expect(
    { sessions: view.summaries(got.sessions), histories: mapValues(got.histories, view.messages) },
    'final content',
  ).toEqual({ sessions: view.summaries(want.sessions), histories: mapValues(want.histories, view.messages) });
}

function mapValues<T, U>(record: Record<string, T>, map: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, map(v)]));
}

async function run(
  command: ModelCommand,
  backend: ConversationMemory,
  reference: ConversationMemory,
  state: ReplayState,
): Promise<[Outcome | Outcome[], Outcome | Outcome[]]> {
  const both = async <T>(call: (store: ConversationMemory) => Promise<T>, shape?: (value: T) => unknown) =>
    [await outcomeOf(() => call(backend), shape), await outcomeOf(() => call(reference), shape)] as [
      Outcome,
      Outcome,
    ];
  switch (command.op) {
    case 'createSession': {
      const input = { title: command.title, metadata: command.metadata } as Parameters<
        ConversationMemory['createSession']
      >[0] &
        object;
      if (command.title === undefined) delete input.title;
      if (command.metadata === undefined) delete input.metadata;
      if (command.id !== undefined) return both((s) => s.createSession({ ...input, id: command.id }));
      const got = await outcomeOf(() => backend.createSession(input));
      if (!('ok' in got)) return [got, await outcomeOf(() => reference.createSession(input))];
      const id = got.ok as string;
      expect(id, 'a generated session id').toMatch(UUID_V4);
      state.generatedSessions.push(id);
      return [got, await outcomeOf(() => reference.createSession({ ...input, id }))];
    }
    case 'addMessage': {
      const sessionId = resolveSession(command.session, state);
      const input = { role: command.role, content: command.content } as Parameters<
        ConversationMemory['addMessage']
      >[1];
      if (command.metadata !== undefined) input.metadata = command.metadata as typeof input.metadata;
      const id = resolveMessageId(command.id, state);
      if (id !== undefined) {
        const outcomes = await both((s) => s.addMessage(sessionId, { ...input, id }));
        if ('ok' in outcomes[1]) state.messageIds.push(id);
        return outcomes;
      }
      const got = await outcomeOf(() => backend.addMessage(sessionId, input));
      if (!('ok' in got)) return [got, await outcomeOf(() => reference.addMessage(sessionId, input))];
      const generated = got.ok as string;
      expect(generated, 'a generated message id').toMatch(UUID_V4);
      state.messageIds.push(generated);
      return [got, await outcomeOf(() => reference.addMessage(sessionId, { ...input, id: generated }))];
    }
    case 'addBurst': {
      // Started together without awaiting on the backend, one by one on the reference: call order must win.
      const sessionId = resolveSession(command.session, state);
      const ids = Array.from({ length: command.count }, () => `m${state.nextMessage++}`);
      const message = (id: string, i: number) => ({ id, role: 'user', content: `burst ${i}` });
      const pending = ids.map((id, i) => outcomeOf(() => backend.addMessage(sessionId, message(id, i))));
      const got = await Promise.all(pending);
      const want: Outcome[] = [];
      for (const [i, id] of ids.entries())
        want.push(await outcomeOf(() => reference.addMessage(sessionId, message(id, i))));
      for (const [i, id] of ids.entries()) if ('ok' in want[i]!) state.messageIds.push(id);
      return [got, want];
    }
    case 'updateSessionTitle': {
      const sessionId = resolveSession(command.session, state);
      return both((s) => s.updateSessionTitle(sessionId, command.title));
    }
    case 'deleteSession': {
      const sessionId = resolveSession(command.session, state);
      return both((s) => s.deleteSession(sessionId));
    }
    case 'getHistory': {
      const sessionId = resolveSession(command.session, state);
      const options = command.limit === undefined ? undefined : { limit: command.limit };
      return both((s) => s.getHistory(sessionId, options), view.messages);
    }
    case 'getSessions': {
      const options: { limit?: number; offset?: number } = {};
      if (command.limit !== undefined) options.limit = command.limit;
      if (command.offset !== undefined) options.offset = command.offset;
      return both((s) => s.getSessions(options), view.summaries);
    }
    case 'getSession': {
      const sessionId = resolveSession(command.session, state);
      return both((s) => s.getSession(sessionId), view.session);
    }
    case 'clearAll':
      return both((s) => s.clearAll());
    default:
      return runEdit(command, backend, both, state);
  }
}

/** The commands of contract 1.1: skipped (on both stores) when the backend lacks the capability. */
async function runEdit(
  command: Extract<
    ModelCommand,
    {
      op:
        | 'upsertMessages'
        | 'rewriteHistory'
        | 'deleteMessages'
        | 'popMessage'
        | 'getHistoryDigests'
        | 'updateSession';
    }
  >,
  backend: ConversationMemory,
  both: <T>(
    call: (store: ConversationMemory) => Promise<T>,
    shape?: (value: T) => unknown,
  ) => Promise<[Outcome, Outcome]>,
  state: ReplayState,
): Promise<[Outcome, Outcome]> {
  const capability = command.op === 'updateSession' ? 'sessionUpdates' : 'historyEditing';
  if (!backend.capabilities[capability]) return [{ ok: 'skipped' }, { ok: 'skipped' }];
  const sessionId = resolveSession(command.session, state);
  const known = (index: number) => state.messageIds[index % Math.max(1, state.messageIds.length)];
  switch (command.op) {
    case 'upsertMessages': {
      const ids = command.ids.map((choice) => resolveMessageId(choice, state)!);
      const messages = ids.map((id) => ({ id, role: 'user', content: command.content }));
      const outcomes = await both((s) => s.upsertMessages(sessionId, messages));
      if ('ok' in outcomes[1]) state.messageIds.push(...ids);
      return outcomes;
    }
    case 'rewriteHistory': {
      const after = command.after === null ? null : (known(command.after.index) ?? 'never-stored');
      const ids = Array.from({ length: command.count }, () => `m${state.nextMessage++}`);
      const messages = ids.map((id) => ({ id, role: 'assistant', content: `rewritten ${id}` }));
      const outcomes = await both((s) => s.rewriteHistory(sessionId, { after, messages }));
      if ('ok' in outcomes[1]) state.messageIds.push(...ids);
      return outcomes;
    }
    case 'deleteMessages': {
      const ids = command.picks.map((index) => known(index) ?? 'never-stored');
      return both((s) => s.deleteMessages(sessionId, ids));
    }
    case 'popMessage':
      return both(
        (s) => s.popMessage(sessionId),
        (m) => (m === null ? null : view.messages([m])[0]),
      );
    case 'getHistoryDigests':
      return both((s) => s.getHistoryDigests(sessionId));
    case 'updateSession': {
      const input: Record<string, unknown> = { metadataPatch: command.patch };
      if (command.title !== undefined) input.title = command.title;
      return both((s) => s.updateSession(sessionId, input), view.session);
    }
  }
}
