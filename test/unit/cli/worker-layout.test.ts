/** Which worker processes `scalenet demo` starts for a config, and where supernet epochs are sent. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { workerLayout } from '../../../cli/commands/demo';
import { loadConfigFile } from '../../../cli/config-file';
import { parseConfigObject, supernetQueue, type RunConfig } from '../../../core/config';
import { UsageError } from '../../../cli/errors';

const root = join(__dirname, '..', '..', '..');
const demo = loadConfigFile(join(root, 'examples', 'demo.yaml'));
const withQueues = (c: RunConfig, taskQueues: Record<string, string>): RunConfig =>
  parseConfigObject({ ...c, resources: { ...c.resources, taskQueues } });

describe('demo worker layout', () => {
  it('one queue for all tensor work (the demo): this process and cores − 1 children, every core each', () => {
    assert.equal(supernetQueue(demo), demo.resources.taskQueues.compute);
    assert.deepEqual({ ...workerLayout(demo, 2), description: '' }, {
      supernetWorkers: 0, computeWorkers: 1, inProcess: [{ taskQueue: 'scalenet-cpu', maxConcurrentActivities: 1 }], description: '',
    });
    assert.equal(workerLayout(demo, 4, '1').computeWorkers, 0);
  });

  it('separate supernet and light queues: one all-core supernet child and `cores` one-thread compute children', () => {
    const c = withQueues(demo, { compute: 'c', light: 'l', supernet: 's' });
    assert.equal(supernetQueue(c), 's');
    const l = workerLayout(c, 2);
    assert.deepEqual([l.supernetWorkers, l.computeWorkers, l.computeThreads], [1, 2, 1]);
    assert.deepEqual(l.inProcess, [{ taskQueue: 'l', maxConcurrentActivities: 4 }], 'this process takes no tensor work');
    assert.equal(workerLayout(c, 2, '5').computeWorkers, 5);
  });

  it('a supernet queue shared with the light one keeps everything in reach of this process', () => {
    const c = withQueues(demo, { compute: 'c', light: 'l', supernet: 'l' });
    assert.deepEqual(workerLayout(c, 2).inProcess, [{ taskQueue: 'c', maxConcurrentActivities: 1 }, { taskQueue: 'l', maxConcurrentActivities: 4 }]);
  });

  it('refuses a worker count that is not an integer in 1..64', () => {
    for (const bad of ['0', '1.5', 'x', '65']) assert.throws(() => workerLayout(demo, 2, bad), UsageError);
  });
});
