import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { BatchStream, batchToTensor, gather, loadDataset, sequentialBatches, type ImageSet } from '../../../data';

const ds = loadDataset({ kind: 'synthetic', trainSize: 100, testSize: 20, resolution: 8 }, { minivalSize: 10 });

test('a BatchStream restored from state() yields exactly the batches the original would have', () => {
  const args = { batchSize: 16, seed: 3, augment: ds.augmentation };
  const a = new BatchStream(ds.train, args);
  for (let i = 0; i < 7; i++) a.next(); // crosses an epoch boundary (90 images)
  const saved = JSON.parse(JSON.stringify(a.state())) as ReturnType<BatchStream['state']>;
  const b = new BatchStream(ds.train, args, saved);
  for (let i = 0; i < 10; i++) {
    const x = a.next();
    const y = b.next();
    assert.deepEqual(x.labels, y.labels);
    assert.deepEqual(x.images, y.images);
  }
});

test('each epoch visits every training example exactly once, in a seed-dependent order', () => {
  const tagged: ImageSet = { ...ds.train, labels: Int32Array.from({ length: ds.train.count }, (_, i) => i) };
  const s = new BatchStream(tagged, { batchSize: 10, seed: 1 });
  const seen: number[] = [];
  for (let i = 0; i < 9; i++) seen.push(...s.next().labels);
  assert.deepEqual([...seen].sort((p, q) => p - q), Array.from({ length: 90 }, (_, i) => i));
  const other = new BatchStream(tagged, { batchSize: 10, seed: 2 }).next();
  assert.notDeepEqual(Array.from(other.labels), seen.slice(0, 10));
});

test('flip mirrors the row, crop shifts with zero fill, no augmentation copies the image', () => {
  const img: ImageSet = { images: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), labels: Int32Array.from([0]), count: 1, height: 3, width: 3, channels: 1 };
  assert.deepEqual(Array.from(gather(img, [0], undefined).images), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const outs = new Set<string>();
  const rngLike = { int: () => 0, bool: () => true } as never;
  outs.add(Array.from(gather(img, [0], { crop: false, cropPadding: 0, flip: true }, rngLike).images).join(','));
  assert.deepEqual([...outs], ['3,2,1,6,5,4,9,8,7']);
  const shift = { int: () => 1, bool: () => false } as never;
  assert.deepEqual(Array.from(gather(img, [0], { crop: true, cropPadding: 1, flip: false }, shift).images), [5, 6, 0, 8, 9, 0, 0, 0, 0]);
});

test('batchToTensor normalises with the train statistics and resizes to the sampled resolution', async () => {
  await tf.setBackend('cpu');
  const batch = sequentialBatches(ds.train, 4).next().value;
  assert.ok(batch);
  const t = batchToTensor(batch, ds.normalization);
  const r = batchToTensor(batch, ds.normalization, 12);
  assert.deepEqual(t.shape, [4, 8, 8, 1]);
  assert.deepEqual(r.shape, [4, 12, 12, 1]);
  const first = ((batch.images[0] as number) / 255 - (ds.normalization.mean[0] as number)) / (ds.normalization.std[0] as number);
  assert.ok(Math.abs((t.dataSync()[0] as number) - first) < 1e-5);
  t.dispose();
  r.dispose();
  assert.deepEqual([...sequentialBatches(ds.minival, 4)].map((b) => b.count), [4, 4, 2]);
});
