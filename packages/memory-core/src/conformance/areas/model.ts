import fc from 'fast-check';
import { InMemoryConversationMemory } from '../../in-memory/in-memory-memory.js';
import type { ConformanceCase } from '../conformance-case.js';
import { FakeClock } from '../fake-clock.js';
import { modelCommands } from '../model/model-commands.js';
import { replay } from '../model/model-replay.js';
import { StoreWideIdsReference } from '../model/store-wide-ids-reference.js';

/** Random operation sequences give the same observable results as the in-memory reference. */
export const modelCases: ConformanceCase[] = [
  {
    name: 'all methods - random operation sequences give the same results as the in-memory reference',
    needs: ['clock'],
    timeoutFactor: 4,
    async run({ open, close, ownerId, modelRuns, modelSeed }) {
      await fc.assert(
        fc.asyncProperty(modelCommands, async (commands) => {
          const clock = new FakeClock();
          const backend = await open({ clock: clock.now });
          // In view mode the reference is a view of the same owner, so that `ownerId` compares equal too.
          // A backend without historyEditing keeps contract 1.0's store-wide message ids: so does its reference.
          const Reference = backend.capabilities.historyEditing
            ? InMemoryConversationMemory
            : StoreWideIdsReference;
          const referenceStore = new Reference({ clock: clock.now });
          const reference = ownerId === null ? referenceStore : referenceStore.forOwner(ownerId);
          try {
            await replay(commands, backend, reference, clock);
          } catch (error) {
            await close(backend).catch(() => undefined);
            throw error;
          } finally {
            await referenceStore.close();
          }
          // Closed at once rather than after the case (shrinking may open hundreds of stores); in view mode this
          // also checks the other owners' rows are untouched.
          await close(backend);
        }),
        modelSeed === undefined ? { numRuns: modelRuns } : { numRuns: modelRuns, seed: modelSeed },
      );
    },
  },
];
