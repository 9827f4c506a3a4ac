/** All activities, built from their dependencies (so tests can build them against any store). */
import type { ArtifactStore } from '../storage/store';
import { createSliceActivities } from './artifact-slice';

export interface ActivityDeps {
  store: ArtifactStore;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createSliceActivities(deps.store),
  };
}

export type Activities = ReturnType<typeof createActivities>;
