/**
 * What the supernet and search stages return to the run (and what activities/records.ts records): small JSON
 * with references into the store. Here in core/, below both workflows/ and activities/, so neither layer
 * imports the other.
 */
import type { SupernetEpochResult } from './pipeline';
import type { ObjectRef } from './refs';
import type { SearchResult } from './search';

/** The trained super-supernet: its final checkpoint and every epoch's result. */
export interface TrainSupernetResult {
  checkpoint: SupernetEpochResult['checkpoint'];
  epochs: SupernetEpochResult[];
  computeSeconds: number;
}

/** The search result without its (large) audit trail, which is stored in MinIO. */
export interface SearchSummary {
  result: Omit<SearchResult, 'generations' | 'choices' | 'initBases'>;
  /** The full result (generation records, strategy choices) in the store. */
  record: ObjectRef;
  computeSeconds: number;
}
