/** Stage 5, one child per model: retrain a family member (or a baseline) from scratch and export it. */
import type { RetrainInput, RetrainResult } from '../core/pipeline';
import { computeActivities, type ActivityTuning } from './activities';

export interface RetrainWorkflowInput extends RetrainInput {
  tuning?: ActivityTuning;
}

export async function retrainFamilyMember(input: RetrainWorkflowInput): Promise<RetrainResult> {
  const { tuning, ...rest } = input;
  const { retrainModel } = computeActivities(input.config, tuning);
  return retrainModel(rest);
}
