import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { getPreset, PRESET_NAMES } from '../../../core/presets';
import { scaleNetwork, up, convOutputSize } from '../../../core/scaling';
import { countNetwork } from '../../../core/flops';
import type { SearchSpace } from '../../../core/space';

const S0 = [[5], [5], [7, 7, 5, 3], [5, 5], [7, 7], [7, 5, 7], [5]];

void test('paper S0 (d = w = 1, 224 px) counts exactly 354,933,888 MACs and 6,686,680 params (DESIGN §3.2 test vector)', () => {
  const c = countNetwork(scaleNetwork(getPreset('paper'), { stages: S0, depth: 1, width: 1, resolution: 224 }));
  assert.equal(c.macs, 354_933_888);
  assert.equal(c.params, 6_686_680);
});

void test('the per-layer breakdown sums to the totals and its shapes chain', () => {
  const c = countNetwork(scaleNetwork(getPreset('paper'), { stages: S0, depth: 1.4, width: 1.4, resolution: 354 }));
  assert.equal(c.layers.reduce((a, l) => a + l.macs, 0), c.macs);
  assert.equal(c.layers.reduce((a, l) => a + l.params, 0), c.params);
  const convs = c.layers.filter((l) => l.kind !== 'se');
  for (let i = 1; i < convs.length; i++) {
    assert.deepEqual(convs[i]!.inShape, convs[i - 1]!.outShape, `${convs[i]!.name} input matches ${convs[i - 1]!.name} output`);
  }
  assert.deepEqual(c.layers[0]!.inShape, [3, 354, 354]);
  assert.deepEqual(c.layers.at(-1)!.outShape, [1000]);
});

void test('the first stage-1 block of S0 counts as the contract says (hand-computed)', () => {
  const c = countNetwork(scaleNetwork(getPreset('paper'), { stages: S0, depth: 1, width: 1, resolution: 224 }));
  const byName = new Map(c.layers.map((l) => [l.name, l]));
  // stem: 3→32, 3×3, stride 2 → 112×112: 3·9·32·112² MACs, 864 weights + 64 BN.
  assert.deepEqual([byName.get('stem')!.macs, byName.get('stem')!.params], [3 * 9 * 32 * 112 * 112, 864 + 64]);
  // stages[1][0]: 16 → hidden 96 (t=6) → 32, k=5, stride 2: 112 → 56.
  assert.equal(byName.get('stages[1][0].expand')!.macs, 16 * 96 * 112 * 112);
  assert.equal(byName.get('stages[1][0].depthwise')!.macs, 25 * 96 * 56 * 56);
  assert.deepEqual([byName.get('stages[1][0].se')!.macs, byName.get('stages[1][0].se')!.params], [2 * 96 * 24, 96 * 24 + 24 + 24 * 96 + 96]);
  assert.equal(byName.get('stages[1][0].project')!.macs, 96 * 32 * 56 * 56);
  // stages[0][0] has t = 1: no expand conv.
  assert.equal(byName.has('stages[0][0].expand'), false);
  assert.deepEqual([byName.get('fc')!.macs, byName.get('fc')!.params], [1280 * 1000, 1280 * 1000 + 1000]);
});

void test('up() is ceil that forgives float error; conv output size follows ⌊(in + 2⌊k/2⌋ − k)/s⌋ + 1', () => {
  assert.equal(up(1.16 * 25), 29);
  assert.equal(up(4 * 1.04), 5);
  assert.equal(up(3), 3);
  assert.equal(convOutputSize(224, 3, 2), 112);
  assert.equal(convOutputSize(7, 5, 2), 4);
  assert.equal(convOutputSize(354, 3, 2), 177);
});

function archArb(space: SearchSpace) {
  const base = fc.tuple(...space.stages.map((s) => fc.array(fc.constantFrom(...s.kernels), { minLength: 1, maxLength: s.maxDepth })));
  return fc.record({
    stages: base,
    depth: fc.double({ min: 0.5, max: 2.5, noNaN: true }),
    width: fc.double({ min: 0.5, max: 2.5, noNaN: true }),
    resolution: fc.integer({ min: 8, max: 400 }),
  });
}

for (const name of PRESET_NAMES) {
  void test(`${name}: MACs and params never decrease when any multiplier grows (property)`, () => {
    const space = getPreset(name);
    fc.assert(fc.property(archArb(space), fc.constantFrom('depth', 'width', 'resolution'),
      fc.double({ min: 0, max: 1, noNaN: true }), (arch, dim, frac) => {
        const bigger = { ...arch };
        if (dim === 'resolution') bigger.resolution = arch.resolution + Math.ceil(frac * 50);
        else bigger[dim] = arch[dim] * (1 + frac);
        const a = countNetwork(scaleNetwork(space, arch));
        const b = countNetwork(scaleNetwork(space, bigger));
        return b.macs >= a.macs && (dim === 'resolution' || b.params >= a.params);
      }), { numRuns: 300, seed: 1 });
  });
}
