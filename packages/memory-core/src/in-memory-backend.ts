import type { BackendDescriptor } from './backend-descriptor.js';
import { InMemoryConversationMemory } from './in-memory/in-memory-memory.js';

/**
 * The in-memory reference backend as the registry sees it: `memory`, no location, nothing persisted (each
 * open is a fresh, empty store).
 */
export const inMemoryBackend: BackendDescriptor<undefined> = {
  name: 'memory',
  aliases: [],
  title: 'in-memory',
  settings: [],
  resolve: () => undefined,
  describe: () => 'memory (not persisted)',
  locationText: () => 'memory',
  open: async () => new InMemoryConversationMemory(),
};
