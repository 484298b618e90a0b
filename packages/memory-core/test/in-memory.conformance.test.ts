import { runConformanceSuite } from '../src/conformance/index.js';
import { InMemoryConversationMemory } from '../src/index.js';

// The reference backend must pass everything; the shared-database cases are skipped (it has no database).
runConformanceSuite('in-memory', ({ clock }) => new InMemoryConversationMemory({ clock }));
