import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LruCache } from '../../../activities/runtime';

void test('the dataset cache is bounded by bytes: least recently used out, the entry in use always kept', () => {
  const c = new LruCache<string>(() => 100);
  c.set('a', 'A', 40);
  c.set('b', 'B', 40);
  assert.equal(c.get('a'), 'A'); // a is now the most recently used
  c.set('c', 'C', 40); // 120 > 100: b goes
  assert.deepEqual(c.keys(), ['a', 'c']);
  assert.ok(c.bytes <= 100);
  c.set('huge', 'H', 0);
  c.resize('huge', 500); // larger than the limit alone: everything else goes, it stays
  assert.deepEqual(c.keys(), ['huge']);
  assert.equal(c.get('huge'), 'H');
});
