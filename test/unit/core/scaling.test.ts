import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getPreset } from '../../../core/presets';
import { scaleNetwork, superSupernetSpec, up } from '../../../core/scaling';
import { levelTriples } from '../../../core/feasibility';
import { Rng } from '../../../core/rng';
import { randomBase } from '../../../core/sampler';

const S0 = [[5], [5], [7, 7, 5, 3], [5, 5], [7, 7], [7, 5, 7], [5]];

void test('depth scaling gives up(n·d) layers per stage and repeats the stage\'s last kernel', () => {
  const net = scaleNetwork(getPreset('paper'), { stages: S0, depth: 1.4, width: 1, resolution: 224 });
  assert.deepEqual(net.depths, [2, 2, 6, 3, 3, 5, 2]);
  assert.deepEqual(net.blocks.filter((b) => b.stage === 2).map((b) => b.kernel), [7, 7, 5, 3, 3, 3]);
  assert.deepEqual(net.blocks.filter((b) => b.stage === 5).map((b) => b.kernel), [7, 5, 7, 7, 7]);
});

void test('width scaling: stem and block in/out up(c·w); hidden up(c_in·t·w) with unscaled c_in; head out fixed', () => {
  const net = scaleNetwork(getPreset('paper'), { stages: S0, depth: 1, width: 1.16, resolution: 224 });
  assert.equal(net.stem.cout, up(32 * 1.16)); // 38
  const b = net.blocks.find((x) => x.stage === 1 && x.index === 0)!;
  assert.deepEqual([b.cin, b.cout, b.hidden, b.seHidden], [up(16 * 1.16), up(32 * 1.16), up(16 * 6 * 1.16), Math.floor(up(16 * 6 * 1.16) / 4)]);
  // hidden is NOT up(cin_scaled · t): 19 · 6 = 114 but up(16·6·1.16) = 112.
  assert.equal(b.hidden, 112);
  assert.deepEqual([net.head.cin, net.head.cout], [up(320 * 1.16), 1280]);
  assert.deepEqual(net.fc, { cin: 1280, classes: 1000 });
});

void test('the stride sits on each stage\'s first layer; residual exactly when stride 1 and cin = cout', () => {
  const net = scaleNetwork(getPreset('paper'), { stages: S0, depth: 1.2, width: 1.2, resolution: 256 });
  for (const b of net.blocks) {
    assert.equal(b.stride, b.index === 0 ? getPreset('paper').stages[b.stage]!.stride : 1);
    assert.equal(b.residual, b.stride === 1 && b.cin === b.cout);
    assert.equal(b.expand, b.stage !== 0);
  }
  assert.equal(net.blocks[0]!.residual, false); // 32 → 16
  assert.deepEqual(net.blocks.map((b) => b.outputSize).filter((s, i, a) => a.indexOf(s) === i), [128, 64, 32, 16, 8]);
});

void test('superSupernetSpec: up(maxDepth·dMax) slots per stage, and every sampled block fits its slot', () => {
  const space = getPreset('paper');
  const spec = superSupernetSpec(space);
  assert.equal(spec.maxDepthMultiplier, 1.64);
  assert.deepEqual(spec.stages.map((s) => s.length), [2, 7, 7, 7, 7, 7, 2]);
  assert.equal(spec.stem.maxCout, up(32 * 1.64));
  assert.equal(spec.head.cout, 1280);
  const rng = new Rng(3);
  for (let s = 0; s < space.levels.length; s++) {
    for (const m of levelTriples(space, s)) {
      const net = scaleNetwork(space, { stages: randomBase(space, rng), ...m });
      assert.ok(net.stem.cout <= spec.stem.maxCout && net.head.cin <= spec.head.maxCin);
      for (const b of net.blocks) {
        const slot = spec.stages[b.stage]![b.index];
        assert.ok(slot, `slot ${b.stage}/${b.index} exists`);
        assert.ok(b.cin <= slot.maxCin && b.cout <= slot.maxCout && b.hidden <= slot.maxHidden && b.seHidden <= slot.maxSeHidden);
        assert.ok(slot.kernels.includes(b.kernel) && slot.stride === b.stride && slot.expand === b.expand);
      }
    }
  }
});
