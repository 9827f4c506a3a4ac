/** `scalenet list` filters become a visibility query over the search attributes; bad values are usage errors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listQuery } from '../../../cli/commands/run';
import { UsageError } from '../../../cli/errors';

void test('filters by config name, state and config hash', () => {
  assert.equal(listQuery({}), "WorkflowType = 'scaleNetRun'");
  assert.equal(listQuery({ name: 'tiny', state: 'completed', configHash: 'a'.repeat(64) }),
    `WorkflowType = 'scaleNetRun' AND ScaleNetConfigName = 'tiny' AND ExecutionStatus = 'Completed' AND ScaleNetConfigHash = '${'a'.repeat(64)}'`);
  assert.equal(listQuery({ state: 'cancelled' }), "WorkflowType = 'scaleNetRun' AND ExecutionStatus = 'Canceled'");
});

void test('values that could change the query are refused', () => {
  assert.throws(() => listQuery({ name: "x' OR '1'='1" }), UsageError);
  assert.throws(() => listQuery({ state: 'done' }), /--state: "done" is not one of running, completed/);
  assert.throws(() => listQuery({ configHash: 'abc' }), UsageError);
});
