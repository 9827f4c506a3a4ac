/** Typed search attributes (DESIGN §4): every stage of a run can be found by run id, stage and config hash. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const RUN_ID = defineSearchAttributeKey('ScaleNetRunId', SearchAttributeType.KEYWORD);
export const STAGE = defineSearchAttributeKey('ScaleNetStage', SearchAttributeType.KEYWORD);
export const CONFIG_HASH = defineSearchAttributeKey('ScaleNetConfigHash', SearchAttributeType.KEYWORD);
/** The config's `name` (set when the CLI starts a run), so `scalenet list --name` finds a config's runs. */
export const CONFIG_NAME = defineSearchAttributeKey('ScaleNetConfigName', SearchAttributeType.KEYWORD);
