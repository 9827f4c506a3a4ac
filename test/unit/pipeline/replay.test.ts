/**
 * Recorded histories of a complete tiny run (parent, supernet, search and retrain children), replayed
 * against today's workflow code: a change that would break running workflows (nondeterminism) fails
 * here. Regenerate the fixtures with scripts/dump-histories.ts only for a deliberate, versioned
 * workflow change.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';

const dir = join(__dirname, '..', '..', 'fixtures', 'histories');
Runtime.install({ logger: new DefaultLogger('WARN') });

describe('recorded workflow histories replay without nondeterminism', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.binpb')).sort();

  it('has fixtures for the parent and every kind of child', () => {
    assert.ok(files.includes('tiny.binpb'));
    for (const kind of ['train-supernet', 'search', 'retrain.S0', 'retrain.B1']) assert.ok(files.includes(`tiny.${kind}.binpb`), kind);
  });

  for (const f of files) {
    it(`replays ${f}`, async () => {
      const history = temporal.api.history.v1.History.decode(readFileSync(join(dir, f)));
      assert.ok((history.events?.length ?? 0) > 3, 'a real history');
      await Worker.runReplayHistory({ workflowsPath: require.resolve('../../../workflows') }, history, f);
    });
  }
});
