import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { configReference } from '../../../scripts/config-reference';

it('docs/config-reference.md is generated from the current config schema (run scripts/config-reference.ts)', () => {
  const file = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'config-reference.md'), 'utf8');
  assert.equal(file, configReference());
  for (const field of ['`supernet.epochs`', '`search.population`', '`retraining.testImages`', '`resources.taskQueues.compute`']) {
    assert.ok(file.includes(field), `the reference lists ${field}`);
  }
});
