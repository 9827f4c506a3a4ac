/** Pure pieces of the pipeline: batching of candidates, the family built from a search, run ids. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRunId } from '../../../cli/commands/run';
import { parseConfigObject } from '../../../core/config';
import { buildFamily } from '../../../core/family';
import { architectureMacs } from '../../../core/feasibility';
import { getPreset } from '../../../core/presets';
import { chunk } from '../../../workflows/search';

describe('chunk (evaluation batches for parallel workers)', () => {
  it('splits into at most `parts` near-equal chunks, keeping order and every item', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    assert.deepEqual(chunk(items, 3), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    assert.deepEqual(chunk(items, 1), [items]);
    assert.deepEqual(chunk([1, 2], 5), [[1], [2]]);
    assert.deepEqual(chunk([], 3), []);
  });
});

describe('buildFamily', () => {
  const config = parseConfigObject({ name: 't', space: 'tiny', extrapolation: { extraLevels: 2 } });
  const space = getPreset('tiny');
  const base = space.stages.map((s) => Array.from({ length: s.maxDepth }, () => s.kernels[0]!));
  const strategies = [
    { depth: 1, width: 1, resolution: 28 },
    { depth: 1.25, width: 1.1, resolution: 32 },
    { depth: 1.5, width: 1.3, resolution: 36 },
  ];
  const family = strategies.map((m, level) => ({ level, multipliers: m, macs: architectureMacs(space, { stages: base, ...m }), accuracy: 0.5 + level / 10, feasible: true }));

  it('lists S0..S_L searched, S_{L+1}..S_{L+K} extrapolated along the trend, and B1..B_{L+K}', () => {
    const f = buildFamily(config, { base, strategies, family });
    assert.deepEqual(f.models.map((m) => m.name), ['S0', 'S1', 'S2', 'S3', 'S4', 'B1', 'B2', 'B3', 'B4']);
    assert.equal(f.extrapolation.method, 'trend');
    const s0 = f.models[0]!.macs;
    for (const m of f.models.filter((x) => x.kind !== 'searched')) {
      assert.ok(Math.abs(m.macs / (2 ** m.level * s0) - 1) < 0.25, `${m.name} is near 2^${m.level}·MACs(S0)`);
    }
    assert.equal(f.models[2]!.supernetAccuracy, 0.7);
    assert.equal(f.models[3]!.supernetAccuracy, null);
  });

  it('solves each baseline B_s for the MACs of its partner S_s (searched or extrapolated) within 1 %', () => {
    // S1 sits low in its window (0.8× of 2^1·MACs(S0)): a baseline solved for 2^s·MACs(S0) would be 25 % larger.
    const lowS1 = strategies.map((m, level) => (level === 1 ? { depth: 1, width: 1, resolution: 36 } : m));
    const fam = lowS1.map((m, level) => ({ level, multipliers: m, macs: architectureMacs(space, { stages: base, ...m }), accuracy: 0.5, feasible: true }));
    for (const f of [buildFamily(config, { base, strategies, family }), buildFamily(config, { base, strategies: lowS1, family: fam })]) {
      for (const b of f.models.filter((m) => m.kind === 'baseline')) {
        const partner = f.models.find((m) => m.name === b.budget?.partner)!;
        assert.equal(partner.name, `S${b.level}`);
        assert.ok(Math.abs(b.macs / partner.macs - 1) <= 0.01, `${b.name} ${b.macs} vs ${partner.name} ${partner.macs}`);
        assert.equal(b.budget!.targetMacs, partner.macs);
        assert.ok(b.budget!.withinTolerance);
      }
      assert.deepEqual(f.compound, { alpha: 1.2, beta: 1.1, gamma: 1.15 });
    }
  });

  it('takes the compound coefficients from the config', () => {
    const depthOnly = parseConfigObject({ name: 't', space: 'tiny', extrapolation: { extraLevels: 0 }, retraining: { compound: { alpha: 1.4, beta: 1, gamma: 1 } } });
    const f = buildFamily(depthOnly, { base, strategies, family });
    assert.deepEqual(f.compound, { alpha: 1.4, beta: 1, gamma: 1 });
    const b2 = f.models.find((m) => m.name === 'B2')!;
    assert.ok(b2.arch.depth > 1.4, `depth-only compound scaling deepens B2 (depth ${b2.arch.depth})`);
  });

  it('falls back to the compound direction when the searched multipliers do not grow', () => {
    const flat = strategies.map(() => ({ depth: 1, width: 1, resolution: 28 }));
    const f = buildFamily(config, { base, strategies: flat, family });
    assert.equal(f.extrapolation.method, 'compound-fallback');
    assert.match(f.extrapolation.note!, /compound/);
    assert.deepEqual(f.models.filter((m) => m.kind === 'extrapolated').map((m) => m.name), ['S3', 'S4']);
  });
});

describe('run ids', () => {
  it('derive from the config name and UTC time, without dots (stage ids append ".stage")', () => {
    const id = newRunId(parseConfigObject({ name: 'my.run' }), new Date('2026-11-28T10:20:30Z'));
    assert.equal(id, 'my-run-20261128-102030');
  });
});
