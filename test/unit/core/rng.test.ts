import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../core/rng';

void test('equal seeds give equal streams, different seeds different ones', () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const xa = Array.from({ length: 8 }, () => a.nextUint32());
  assert.deepEqual(xa, Array.from({ length: 8 }, () => b.nextUint32()));
  assert.notDeepEqual(xa, Array.from({ length: 8 }, () => c.nextUint32()));
  assert.notDeepEqual(new Rng(1).state(), new Rng('1').state());
});

void test('the stream is fixed: a known seed yields known numbers (guards against accidental changes)', () => {
  const r = new Rng(2022);
  const got = [r.nextUint32(), r.nextUint32(), r.int(0, 9), r.choice(['a', 'b', 'c'])];
  // Recorded from this implementation; a change here changes every seeded run in the project.
  assert.deepEqual(got, GOLDEN);
});
const GOLDEN: unknown[] = [3139540592, 2901354722, 3, 'c'];

void test('state() is plain JSON and fromState() continues the identical stream', () => {
  const r = new Rng('resume');
  for (let i = 0; i < 100; i++) r.float();
  const saved = JSON.parse(JSON.stringify(r.state())) as ReturnType<Rng['state']>;
  const expected = Array.from({ length: 50 }, () => [r.float(), r.int(-3, 3), r.normal()]);
  const resumed = Rng.fromState(saved);
  assert.deepEqual(Array.from({ length: 50 }, () => [resumed.float(), resumed.int(-3, 3), resumed.normal()]), expected);
});

void test('fromState rejects malformed states', () => {
  assert.throws(() => Rng.fromState({ algorithm: 'sfc32', s: [1, 2, 3] } as never), /four unsigned 32-bit/);
  assert.throws(() => Rng.fromState({ algorithm: 'sfc32', s: [1, 2, 3, -1] }), /four unsigned 32-bit/);
});

void test('int(lo, hi) is inclusive and roughly uniform; float in [0, 1)', () => {
  const r = new Rng(7);
  const counts = [0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 60_000; i++) {
    const v = r.int(1, 6);
    assert.ok(v >= 1 && v <= 6);
    counts[v - 1]!++;
  }
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400, `count ${c} too far from 10000`);
  for (let i = 0; i < 10_000; i++) {
    const f = r.float();
    assert.ok(f >= 0 && f < 1);
  }
  assert.throws(() => r.int(3, 2), RangeError);
});

void test('normal() has mean ≈ 0 and std ≈ 1; shuffle is a permutation that leaves its input alone', () => {
  const r = new Rng(11);
  const xs = Array.from({ length: 20_000 }, () => r.normal());
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(sd - 1) < 0.03, `mean ${mean} sd ${sd}`);
  const input = [1, 2, 3, 4, 5, 6, 7, 8];
  const out = r.shuffle(input);
  assert.deepEqual(input, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...out].sort((a, b) => a - b), input);
});

void test('weightedIndex follows the weights and never picks a zero weight', () => {
  const r = new Rng(5);
  const counts = [0, 0, 0];
  for (let i = 0; i < 30_000; i++) counts[r.weightedIndex([1, 0, 2])]!++;
  assert.equal(counts[1], 0);
  assert.ok(Math.abs(counts[0]! / 30_000 - 1 / 3) < 0.015);
});
