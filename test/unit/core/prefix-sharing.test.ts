import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkBySharedPrefix, commonPrefix, layerCosts, layerKeys, prefixOrder } from '../../../core/prefix-sharing';
import { getPreset } from '../../../core/presets';
import { scaleNetwork } from '../../../core/scaling';

const space = getPreset('tiny');
const at = (stages: number[][], depth: number, width: number, resolution: number) => ({ stages, depth, width, resolution });
const keysOf = (a: ReturnType<typeof at>) => layerKeys(scaleNetwork(space, a));

void test('layer keys: equal up to the first layer that differs, and no further', () => {
  const a = keysOf(at([[3], [5, 3], [3, 5, 3], [5, 3]], 1, 1.2, 36));
  assert.equal(a.length, 1 + 8); // the stem and eight blocks; the head is not a resumable layer
  // Another kernel in the third stage's second block: stem, stage 0, stage 1 and the first block of stage 2 shared.
  assert.equal(commonPrefix(a, keysOf(at([[3], [5, 3], [3, 3, 3], [5, 3]], 1, 1.2, 36))), 5);
  // Another resolution, or another width: nothing shared, not even the stem.
  assert.equal(commonPrefix(a, keysOf(at([[3], [5, 3], [3, 5, 3], [5, 3]], 1, 1.2, 32))), 0);
  assert.equal(commonPrefix(a, keysOf(at([[3], [5, 3], [3, 5, 3], [5, 3]], 1, 1.1, 36))), 0);
  // A deeper network repeats stage kernels: the first stage (one base layer, depth 1.25 → 2 layers) diverges there.
  assert.equal(commonPrefix(a, keysOf(at([[3], [5, 3], [3, 5, 3], [5, 3]], 1.25, 1.2, 36))), 2);
  // Different multipliers that resolve to the same layers share everything.
  assert.equal(commonPrefix(a, keysOf(at([[3], [5, 3], [3, 5, 3], [5, 3]], 1, 1.198, 36))), 9);
});

void test('prefix order walks the prefix tree depth first and reports what each candidate shares with the one before', () => {
  const keys = [['a', 'x'], ['b', 'y'], ['a', 'y'], ['a', 'x'], ['b', 'y', 'z']];
  const { order, shared } = prefixOrder(keys);
  assert.deepEqual(order, [0, 3, 2, 1, 4]);
  assert.deepEqual(shared, [0, 2, 1, 0, 2]);
});

void test('chunks: every candidate exactly once, contiguous in prefix order, as many as asked, cost balanced', () => {
  const bases = [[[3], [5, 3], [3, 5, 3], [5, 3]], [[5], [5, 3], [3, 5, 3], [5, 3]], [[3], [3, 3], [3, 5, 3], [5, 5]], [[5], [3], [5, 5], [3]]];
  const levels = [at([], 1, 1.2, 36), at([], 1.25, 1.2, 36), at([], 1.5, 1.4, 40), at([], 1, 1, 28)];
  const items = bases.flatMap((stages, b) => levels.map((m, l) => ({ id: `b${b}l${l}`, arch: { ...m, stages } })));
  for (const parts of [1, 2, 3, 5]) {
    const chunks = chunkBySharedPrefix(space, items, parts);
    assert.equal(chunks.length, parts);
    assert.ok(chunks.every((c) => c.length > 0));
    const flat = chunks.flat();
    assert.deepEqual(flat.map((i) => i.id).sort(), items.map((i) => i.id).sort());
    const { order } = prefixOrder(items.map((i) => keysOf(i.arch)));
    assert.deepEqual(flat.map((i) => i.id), order.map((k) => (items[k] as (typeof items)[number]).id), 'contiguous runs of the prefix order');
  }
  // Two chunks: each within 25 % of half the work (each shared prefix paid once per chunk); cutting the same
  // list in halves by count leaves one side with most of the large networks.
  const cost = (c: typeof items): number => {
    const { order, shared } = prefixOrder(c.map((i) => keysOf(i.arch)));
    return order.reduce((sum, k, pos) => sum + layerCosts(scaleNetwork(space, (c[k] as (typeof items)[number]).arch)).slice(shared[pos]).reduce((a, b) => a + b, 0), 0);
  };
  const [left, right] = chunkBySharedPrefix(space, items, 2) as [typeof items, typeof items];
  const half = (cost(left) + cost(right)) / 2;
  assert.ok(Math.abs(cost(left) - half) < 0.25 * half, `balanced: ${cost(left)} vs ${cost(right)}`);
  assert.ok(cost(left) + cost(right) < cost(items.slice(0, 8)) + cost(items.slice(8)), 'less work than halves in the order asked');
  assert.deepEqual(chunkBySharedPrefix(space, [], 2), []);
  assert.deepEqual(chunkBySharedPrefix(space, items.slice(0, 1), 4).map((c) => c.length), [1]);
});
