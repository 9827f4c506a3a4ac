import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigObject } from '../../../core/config';
import type { FamilyModel } from '../../../core/pipeline';
import { getPreset } from '../../../core/presets';
import { networkKey, scaleNetwork } from '../../../core/scaling';
import { countNetwork } from '../../../core/flops';
import { identicalNetworks, largestFirst } from '../../../workflows/run';

// The demo's family on `tiny` (run of examples/demo.yaml, seed 42): B1's compound multipliers differ from S1's but
// round to the very same layers (equal MACs and params), while S0 and S1 differ.
const base = [[3], [5, 3], [5], [3, 5]];
const S0 = { stages: base, depth: 1, width: 1, resolution: 28 };
const S1 = { stages: base, depth: 1.25, width: 1, resolution: 32 };
const B1 = { stages: base, depth: 1.081, width: 0.9948, resolution: 32 };
const S2 = { stages: base, depth: 1.25, width: 1.2, resolution: 40 };
const tiny = getPreset('tiny');

void test('networkKey: multipliers that round to the same layers give one key; any layer difference another', () => {
  assert.equal(networkKey(tiny, S1), networkKey(tiny, B1));
  assert.deepEqual(countNetwork(scaleNetwork(tiny, S1)), countNetwork(scaleNetwork(tiny, B1)));
  assert.notEqual(networkKey(tiny, S0), networkKey(tiny, S1));
  assert.notEqual(networkKey(tiny, S1), networkKey(tiny, { ...S1, resolution: 36 }));
  assert.notEqual(networkKey(tiny, S1), networkKey(tiny, { ...S1, stages: [[5], [5, 3], [5], [3, 5]] }));
});

void test('identicalNetworks: a baseline identical to its partner is trained as the partner; distinct ones train', () => {
  const config = parseConfigObject({ name: 'same', space: 'tiny' });
  const model = (name: string, kind: FamilyModel['kind'], level: number, arch: typeof S0): FamilyModel =>
    ({ name, kind, level, arch, macs: 0, params: 0, supernetAccuracy: null });
  const chosen = [model('S0', 'searched', 0, S0), model('S1', 'searched', 1, S1), model('S2', 'searched', 2, S2),
    model('B1', 'baseline', 1, B1), model('B2', 'baseline', 2, { ...S2, depth: 1.6 })];
  assert.deepEqual([...identicalNetworks(config, chosen)], [['B1', 'S1']]);
  assert.deepEqual([...identicalNetworks(config, chosen.slice(0, 3))], []);
});

void test('largestFirst: jobs by MACs, most expensive first; equal MACs keep their order (seeds of one model too)', () => {
  const job = (name: string, macs: number, repeat = 0) => ({ model: { name, macs }, repeat });
  const jobs = [job('S0', 4.9e6), job('S1', 11.2e6), job('S1', 11.2e6, 1), job('B1', 11.24e6), job('S2', 17.2e6)];
  assert.deepEqual(largestFirst(jobs).map((j) => `${j.model.name}.${j.repeat}`), ['S2.0', 'B1.0', 'S1.0', 'S1.1', 'S0.0']);
  assert.deepEqual(jobs.map((j) => j.model.name), ['S0', 'S1', 'S1', 'B1', 'S2'], 'the input is left as it was');
});
