import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  DatasetFormatError, encodeIdx, FASHION_MNIST_DIR, joinShards, loadDataset, packShards, readCifarDir,
  idxDeclaredBytes, readIdxImageSet, readMaybeGzip, splitMinival, unpackShard,
} from '../../../data';

const dir = mkdtempSync(join(tmpdir(), 'scalenet-data-'));

function idxFiles(name: string, n: number, h: number, w: number, gz: boolean): { images: string; labels: string } {
  const px = new Uint8Array(n * h * w).map((_, i) => (i * 7) % 256);
  const lab = new Uint8Array(n).map((_, i) => i % 10);
  const images = join(dir, `${name}-images${gz ? '.gz' : ''}`);
  const labels = join(dir, `${name}-labels${gz ? '.gz' : ''}`);
  const enc = (b: Uint8Array): Uint8Array => (gz ? gzipSync(b) : b);
  writeFileSync(images, enc(encodeIdx([n, h, w], px)));
  writeFileSync(labels, enc(encodeIdx([n], lab)));
  return { images, labels };
}

function expectFormatError(fn: () => unknown, file: string, offset: number, expected: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DatasetFormatError, `expected DatasetFormatError, got ${String(err)}`);
    assert.equal(err.file, file);
    assert.equal(err.offset, offset);
    assert.match(err.message, expected);
    assert.ok(err.message.includes(file) && err.message.includes(`byte ${offset}`));
    return true;
  });
}

test('IDX reader returns NHWC pixels and labels, plain and gzipped alike', () => {
  for (const gz of [false, true]) {
    const f = idxFiles(`ok${gz}`, 5, 4, 3, gz);
    const set = readIdxImageSet(f.images, f.labels, 10);
    assert.deepEqual([set.count, set.height, set.width, set.channels], [5, 4, 3, 1]);
    assert.equal(set.images[13], (13 * 7) % 256);
    assert.deepEqual(Array.from(set.labels), [0, 1, 2, 3, 4]);
  }
});

test('malformed IDX files fail naming the file, the byte offset and the expectation', () => {
  const bad = join(dir, 'bad-magic');
  writeFileSync(bad, new Uint8Array([0, 1, 8, 1, 0, 0, 0, 0]));
  const good = idxFiles('pair', 5, 4, 3, false);
  expectFormatError(() => readIdxImageSet(bad, good.labels, 10), bad, 0, /two zero bytes/);
  const type = join(dir, 'bad-type');
  writeFileSync(type, new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 0]));
  expectFormatError(() => readIdxImageSet(type, good.labels, 10), type, 2, /0x08/);
  const trunc = join(dir, 'truncated');
  writeFileSync(trunc, encodeIdx([5, 4, 3], new Uint8Array(60)).subarray(0, 50));
  expectFormatError(() => readIdxImageSet(trunc, good.labels, 10), trunc, 50, /60 data bytes for shape \[5, 4, 3\]/);
  const badLabels = join(dir, 'bad-labels');
  writeFileSync(badLabels, encodeIdx([5], new Uint8Array([1, 2, 3, 12, 0])));
  expectFormatError(() => readIdxImageSet(good.images, badLabels, 10), badLabels, 8 + 3, /label < 10/);
  const shortLabels = join(dir, 'short-labels');
  writeFileSync(shortLabels, encodeIdx([4], new Uint8Array(4)));
  expectFormatError(() => readIdxImageSet(good.images, shortLabels, 10), shortLabels, 4, /5 labels/);
  const badGz = join(dir, 'bad.gz');
  writeFileSync(badGz, gzipSync(encodeIdx([5], new Uint8Array(5))).subarray(0, 12));
  expectFormatError(() => readIdxImageSet(good.images, badGz, 10), badGz, 0, /gzip/);
});

function cifarRecord(labels: number[], seed: number): Uint8Array {
  const r = new Uint8Array(labels.length + 3072);
  r.set(labels, 0);
  for (let i = 0; i < 3072; i++) r[labels.length + i] = (i + seed) % 251;
  return r;
}

test('CIFAR-10 binary: planar records become NHWC; train = 5 batches, test = test_batch', () => {
  const d = mkdtempSync(join(tmpdir(), 'cifar10-'));
  for (const name of ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch']) {
    const recs = [cifarRecord([3], 1), cifarRecord([7], 2)];
    writeFileSync(join(d, `${name}.bin`), Buffer.concat(recs));
  }
  const { train, test: t } = readCifarDir(d, { variant: 'cifar10' });
  assert.equal(train.count, 10);
  assert.equal(t.count, 2);
  assert.deepEqual(Array.from(t.labels), [3, 7]);
  // pixel p=5 of record 1 (seed 2): R at 5, G at 1024+5, B at 2048+5 in the planar source.
  assert.deepEqual(Array.from(t.images.subarray(3072 + 15, 3072 + 18)), [(5 + 2) % 251, (1029 + 2) % 251, (2053 + 2) % 251]);
  writeFileSync(join(d, 'test_batch.bin'), Buffer.concat([cifarRecord([1], 0), new Uint8Array(100)]));
  expectFormatError(() => readCifarDir(d, { variant: 'cifar10' }), join(d, 'test_batch.bin'), 3073, /3073-byte cifar10 records/);
});

test('CIFAR-100 binary: fine labels by default, coarse on request, bad label reported at its offset', () => {
  const d = mkdtempSync(join(tmpdir(), 'cifar100-'));
  writeFileSync(join(d, 'train.bin'), Buffer.concat([cifarRecord([2, 55], 0), cifarRecord([19, 99], 1)]));
  writeFileSync(join(d, 'test.bin'), cifarRecord([4, 42], 2));
  assert.deepEqual(Array.from(readCifarDir(d, { variant: 'cifar100' }).train.labels), [55, 99]);
  assert.deepEqual(Array.from(readCifarDir(d, { variant: 'cifar100', labels: 'coarse' }).train.labels), [2, 19]);
  writeFileSync(join(d, 'test.bin'), cifarRecord([4, 142], 2));
  expectFormatError(() => readCifarDir(d, { variant: 'cifar100' }), join(d, 'test.bin'), 1, /label < 100/);
});

test('minival split is deterministic in the seed, disjoint from train, and covers the training set', () => {
  const f = idxFiles('split', 50, 2, 2, false);
  const set = readIdxImageSet(f.images, f.labels, 10);
  // Tag each image with its index so we can track it through the split.
  for (let i = 0; i < 50; i++) set.images[i * 4] = i;
  const a = splitMinival(set, 10, 7);
  const b = splitMinival(set, 10, 7);
  const c = splitMinival(set, 10, 8);
  const ids = (s: { images: Uint8Array; count: number }): number[] => Array.from({ length: s.count }, (_, i) => s.images[i * 4] as number);
  assert.deepEqual(ids(a.minival), ids(b.minival));
  assert.notDeepEqual(ids(a.minival), ids(c.minival));
  assert.equal(a.train.count, 40);
  const all = [...ids(a.train), ...ids(a.minival)].sort((x, y) => x - y);
  assert.deepEqual(all, Array.from({ length: 50 }, (_, i) => i));
});

test('loadDataset reads an idx config, holds out minival and reports shape, classes and normalisation', () => {
  const tr = idxFiles('cfg-train', 40, 6, 6, true);
  const te = idxFiles('cfg-test', 10, 6, 6, false);
  const ds = loadDataset({ kind: 'idx', train: tr, test: te }, { minivalSize: 8, seed: 1 });
  assert.deepEqual([ds.train.count, ds.minival.count, ds.test.count], [32, 8, 10]);
  assert.deepEqual(ds.imageShape, [6, 6, 1]);
  assert.equal(ds.classes, 10);
  assert.equal(ds.augmentation.flip, false, 'generic IDX (often digits) is not flipped by default');
  assert.equal(ds.normalization.mean.length, 1);
  assert.throws(() => loadDataset({ kind: 'idx', train: tr } as never), /dataset\.test/);
});

test('shards round-trip a dataset byte for byte, and a damaged shard is reported', () => {
  const f = idxFiles('shard', 25, 3, 3, false);
  const set = readIdxImageSet(f.images, f.labels, 10);
  const shards = packShards(set, 10);
  assert.equal(shards.length, 3);
  const back = joinShards(shards.map((s, i) => unpackShard(s, `shard-${i}`)));
  assert.deepEqual(back.images, set.images);
  assert.deepEqual(back.labels, set.labels);
  const cut = (shards[0] as Uint8Array).subarray(0, 100);
  assert.throws(() => unpackShard(cut, 'k/shard-0'), /k\/shard-0: at byte 100/);
});

test('fashion-mnist loads from the Debian package: 50k train + 10k minival, 10k test, 28×28×1', { skip: !existsSync(FASHION_MNIST_DIR) && 'dataset-fashion-mnist not installed (infra/setup-data.sh)' }, () => {
  const ds = loadDataset({ kind: 'fashion-mnist' }, { minivalSize: 10000, seed: 0 });
  assert.deepEqual([ds.train.count, ds.minival.count, ds.test.count], [50000, 10000, 10000]);
  assert.deepEqual(ds.imageShape, [28, 28, 1]);
  assert.equal(ds.augmentation.flip, true);
  assert.ok(Math.abs((ds.normalization.mean[0] as number) - 0.286) < 0.01);
});

test('a gzipped file that inflates beyond the cap is a format error, not a worker out of memory', () => {
  const f = join(dir, 'bomb.gz');
  writeFileSync(f, gzipSync(new Uint8Array(1 << 20)));
  expectFormatError(() => readMaybeGzip(f, 1 << 16), f, 0, /at most 65536 bytes inflated/);
  assert.equal(readMaybeGzip(f).byteLength, 1 << 20);
});

test('a gzipped IDX file is inflated no further than its header declares: a bomb behind a valid header stops there', () => {
  // Incompressible data, so the file is longer than the 8 KB head that is inflated to read the header.
  const noise = randomBytes(200_000);
  const bomb = join(dir, 'bomb-images.gz');
  const header = encodeIdx([10, 28, 28], new Uint8Array(0)); // declares 16 + 7,840 bytes
  writeFileSync(bomb, gzipSync(Buffer.concat([header, noise])));
  expectFormatError(() => readIdxImageSet(bomb, bomb, 10), bomb, 0, /at most 7856 bytes inflated \(the size its header declares\)/);
  const huge = join(dir, 'huge-images.gz');
  writeFileSync(huge, gzipSync(Buffer.concat([encodeIdx([1000, 100, 100], new Uint8Array(0)), noise])));
  expectFormatError(() => readMaybeGzip(huge, 1 << 16, (head) => idxDeclaredBytes(head, huge)), huge, 0, /at most 65536 bytes inflated.*a header declaring 10000016/);
  const honest = join(dir, 'honest-images.gz');
  writeFileSync(honest, gzipSync(encodeIdx([10, 100, 100], noise.subarray(0, 100_000))));
  assert.equal(readMaybeGzip(honest, 1 << 20, (head) => idxDeclaredBytes(head, honest)).byteLength, 16 + 100_000, 'a file as long as its header says reads whole');
});
