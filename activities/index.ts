/** All activities, built from their dependencies (so tests can build them against any store). */
import type { ArtifactStore } from '../storage/store';
import { createDataActivities } from './data';
import { createEvaluationActivities } from './evaluate';
import { createLineageActivities } from './lineage';
import { createRecordActivities } from './records';
import { createRetrainActivities } from './retrain';
import { createSupernetActivities } from './supernet';

export interface ActivityDeps {
  store: ArtifactStore;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createDataActivities(deps.store),
    ...createSupernetActivities(deps.store),
    ...createEvaluationActivities(deps.store),
    ...createRetrainActivities(deps.store),
    ...createRecordActivities(deps.store),
    ...createLineageActivities(deps.store),
  };
}

export type Activities = ReturnType<typeof createActivities>;
