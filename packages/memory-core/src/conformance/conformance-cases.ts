import { concurrencyCases } from './areas/concurrency.js';
import { contentCases } from './areas/content.js';
import { cursorCases } from './areas/cursors.js';
import { filterCases } from './areas/filters.js';
import { healthCases } from './areas/health.js';
import { historyCases } from './areas/history.js';
import { historyEditingCases } from './areas/history-editing.js';
import { lifecycleCases } from './areas/lifecycle.js';
import { listingCases } from './areas/listing.js';
import { messageCases } from './areas/messages.js';
import { metadataCases } from './areas/metadata.js';
import { modelCases } from './areas/model.js';
import { ownerCases } from './areas/owners.js';
import { pageCases } from './areas/pages.js';
import { portabilityCases } from './areas/portability.js';
import { retentionCases } from './areas/retention.js';
import { searchCases } from './areas/search.js';
import { sessionUpdateCases } from './areas/session-updates.js';
import { sessionCases } from './areas/sessions.js';
import { structuredMessageCases } from './areas/structured-messages.js';
import { timestampCases } from './areas/timestamps.js';
import { validationCases } from './areas/validation.js';
import type { ConformanceArea, ConformanceCase } from './conformance-case.js';

/** Every area of the suite, in the order they are registered. */
export const conformanceAreas: readonly ConformanceArea[] = [
  { name: 'sessions', cases: sessionCases },
  { name: 'messages', cases: messageCases },
  { name: 'history', cases: historyCases },
  { name: 'listing', cases: listingCases },
  { name: 'pages', cases: pageCases },
  { name: 'cursors', cases: cursorCases },
  { name: 'metadata', cases: metadataCases },
  { name: 'content', cases: contentCases },
  { name: 'validation', cases: validationCases },
  { name: 'lifecycle', cases: lifecycleCases },
  { name: 'concurrency', cases: concurrencyCases },
  { name: 'timestamps', cases: timestampCases },
  { name: 'portability', cases: portabilityCases },
  { name: 'health', cases: healthCases },
  { name: 'owners', cases: ownerCases },
  { name: 'filters', cases: filterCases },
  { name: 'search', cases: searchCases },
  { name: 'structured messages', cases: structuredMessageCases },
  { name: 'history editing', cases: historyEditingCases },
  { name: 'session updates', cases: sessionUpdateCases },
  { name: 'retention', cases: retentionCases },
  { name: 'model', cases: modelCases },
];

/** Every case of the suite, area after area; run one with `runConformanceCase`. */
export const conformanceCases: readonly ConformanceCase[] = conformanceAreas.flatMap((area) => area.cases);
