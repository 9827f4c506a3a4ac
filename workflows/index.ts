/**
 * Every workflow the workers register. Workflows run in Temporal's deterministic sandbox: they import
 * only core/ and @temporalio/* (enforced by lint), and activities only as types.
 */
export { scaleNetRun } from './run';
export { trainSupernet } from './supernet';
export { searchScaling } from './search';
export { retrainFamilyMember } from './retrain';
