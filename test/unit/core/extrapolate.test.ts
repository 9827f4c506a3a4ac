import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getPreset } from '../../../core/presets';
import { extrapolateScaling } from '../../../core/extrapolate';
import { compoundScaling, EFFICIENTNET_COEFFICIENTS } from '../../../core/compound';
import { fitLogLinear, trendAt } from '../../../core/trend';
import { architectureMacs } from '../../../core/feasibility';

const paper = getPreset('paper');
const S0 = [[5], [5], [7, 7, 5, 3], [5, 5], [7, 7], [7, 5, 7], [5]];
/** The published ScaleNet family S0..S3 (DESIGN §3.8). */
const PUBLISHED = [
  { depth: 1, width: 1, resolution: 224 },
  { depth: 1.04, width: 1.04, resolution: 256 },
  { depth: 1.36, width: 1.2, resolution: 304 },
  { depth: 1.4, width: 1.4, resolution: 354 },
];
const PUBLISHED_EXTRAPOLATED = { 4: { depth: 1.653, width: 1.534, resolution: 457 }, 5: { depth: 1.848, width: 1.688, resolution: 533 } } as const;

void test('fitLogLinear recovers an exact log-linear trend', () => {
  const f = fitLogLinear([0, 1, 2, 3], [0, 1, 2, 3].map((s) => Math.exp(0.1 + 0.2 * s)));
  assert.ok(Math.abs(f.a - 0.1) < 1e-12 && Math.abs(f.b - 0.2) < 1e-12);
  assert.throws(() => fitLogLinear([1, 1], [1, 2]), /must not all be equal/);
});

void test('extrapolating the published S0–S3 predicts S4 and S5 near the published ones (printed side by side)', () => {
  const e = extrapolateScaling(paper, S0, PUBLISHED, { extraLevels: 2, resolutionMultiple: 8 });
  const c = e.coefficients;
  const rows = [`fitted ln m = a + b·s: depth (${c.depth.a.toFixed(4)}, ${c.depth.b.toFixed(4)}), width (${c.width.a.toFixed(4)}, ${c.width.b.toFixed(4)}), resolution (${c.resolution.a.toFixed(4)}, ${c.resolution.b.toFixed(4)})`];
  for (const l of e.levels) {
    const p = PUBLISHED_EXTRAPOLATED[l.level as 4 | 5];
    rows.push(`S${l.level}: ours (d ${l.multipliers.depth}, w ${l.multipliers.width}, ${l.multipliers.resolution} px) at t = ${l.t.toFixed(3)}, ` +
      `${(l.macs / 1e9).toFixed(3)} GMACs (target ${(l.targetMacs / 1e9).toFixed(3)}, error ${(100 * l.relativeError).toFixed(2)}%) | ` +
      `published (d ${p.depth}, w ${p.width}, ≈${p.resolution} px)`);
  }
  console.log(rows.join('\n'));
  assert.equal(e.baseMacs, 354_933_888);
  // Every dimension grows, as in the published family.
  assert.ok(c.depth.b > 0 && c.width.b > 0 && c.resolution.b > 0);
  const [s4, s5] = e.levels;
  assert.deepEqual([s4!.level, s5!.level], [4, 5]);
  for (const [prev, next] of [[PUBLISHED[3]!, s4!.multipliers], [s4!.multipliers, s5!.multipliers]] as const) {
    assert.ok(next.depth > prev.depth && next.width > prev.width && next.resolution > prev.resolution);
  }
  for (const l of e.levels) {
    assert.equal(l.multipliers.resolution % 8, 0);
    assert.ok(Math.abs(l.relativeError) <= 0.03, `S${l.level} MACs within 3% of 2^s·MACs(S0)`);
    assert.ok(Math.abs(l.t - l.level) < 0.5, 'the trend doubles MACs about once per level');
    const p = PUBLISHED_EXTRAPOLATED[l.level as 4 | 5];
    for (const dim of ['depth', 'width', 'resolution'] as const) {
      const rel = Math.abs(l.multipliers[dim] - p[dim]) / p[dim];
      assert.ok(rel < 0.1, `S${l.level} ${dim}: ours ${l.multipliers[dim]} vs published ${p[dim]} (${(100 * rel).toFixed(1)}% apart)`);
    }
  }
  // The recorded values, so a change in the rule is a visible decision.
  assert.deepEqual(e.levels.map((l) => l.multipliers), [
    { depth: 1.666, width: 1.562, resolution: 424 },
    { depth: 1.965, width: 1.813, resolution: 512 },
  ]);
});

void test('extrapolation works on a small preset and fails clearly on a shrinking trend', () => {
  const tiny = getPreset('tiny');
  const base = [[3], [5, 5], [5, 5], [3]];
  const e = extrapolateScaling(tiny, base, [{ depth: 1, width: 1, resolution: 28 }, { depth: 1.25, width: 1.1, resolution: 32 }, { depth: 1.5, width: 1.3, resolution: 36 }], { extraLevels: 1 });
  assert.equal(e.levels.length, 1);
  assert.ok(Math.abs(e.levels[0]!.relativeError) < 0.1);
  assert.throws(() => extrapolateScaling(tiny, base, [{ depth: 1, width: 1, resolution: 28 }, { depth: 0.9, width: 1.2, resolution: 32 }]), /must not shrink any dimension/);
});

void test('compound scaling follows α^φ, β^φ, γ^φ with φ solved per level to the same MACs targets', () => {
  const family = compoundScaling(paper, S0, 5);
  const m0 = architectureMacs(paper, { stages: S0, depth: 1, width: 1, resolution: 224 });
  const { alpha, beta, gamma } = EFFICIENTNET_COEFFICIENTS;
  family.forEach((f, i) => {
    assert.equal(f.level, i + 1);
    assert.equal(f.targetMacs, 2 ** f.level * m0);
    assert.ok(Math.abs(f.relativeError) <= 0.05, `level ${f.level}: ${(100 * f.relativeError).toFixed(2)}%`);
    assert.ok(Math.abs(f.multipliers.depth - alpha ** f.phi) <= 5e-4);
    assert.ok(Math.abs(f.multipliers.width - beta ** f.phi) <= 5e-4);
    assert.ok(Math.abs(f.multipliers.resolution - 224 * gamma ** f.phi) <= 4);
    if (i > 0) assert.ok(f.phi > family[i - 1]!.phi);
  });
  // α·β²·γ² ≈ 1.92: φ tracks the level closely at the larger levels.
  assert.ok(Math.abs(family[2]!.phi - 3) < 0.5);
});

void test('trendAt rounds resolution to the multiple and multipliers to 3 decimals', () => {
  const m = trendAt({ depth: { a: 0, b: Math.log(1.2) }, width: { a: 0, b: Math.log(1.1) }, resolution: { a: Math.log(224), b: Math.log(1.15) } }, 1);
  assert.deepEqual(m, { depth: 1.2, width: 1.1, resolution: 256 });
});
