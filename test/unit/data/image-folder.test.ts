import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { packEncodedShard, unpackEncodedShard, type EncodedImage } from '../../../data/encoded-shards';
import { BadImageError } from '../../../data/image-decode';
import { checkFiles, localSource, scanFolder, stratifiedSplit } from '../../../data/image-folder';
import { encodedBatches, ShardBatchSource, type StreamingData } from '../../../data/stream';
import { tinyPng, writeFashionFolder } from '../../helpers/image-folder';

const check = { channels: 3 as const, maxPixels: 1_000_000, onBadImage: 'fail' as const };

/** A two-class folder with good PNGs, then `extra` applied to it. */
async function folder(extra: (dir: string) => void | Promise<void>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'scalenet-if-'));
  for (const c of ['cat', 'dog']) {
    mkdirSync(join(dir, c));
    for (let i = 0; i < 3; i++) writeFileSync(join(dir, c, `${i}.png`), await tinyPng(40 * i + (c === 'cat' ? 0 : 100)));
  }
  await extra(dir);
  return dir;
}

async function prepareError(dir: string): Promise<BadImageError> {
  try {
    const src = localSource(dir);
    await checkFiles(src, await scanFolder(src), check);
  } catch (err) {
    assert.ok(err instanceof BadImageError, `a BadImageError, got ${String(err)}`);
    return err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.fail('prepare should have failed');
}

test('a corrupt image fails the check, naming the file', async () => {
  const err = await prepareError(await folder((d) => writeFileSync(join(d, 'dog', 'bad.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]))));
  assert.match(err.message, /dog\/bad\.jpg: corrupt JPEG/);
});

test('a truncated PNG fails the check, naming the file', async () => {
  const png = await sharp(Buffer.alloc(64 * 64 * 3, 90), { raw: { width: 64, height: 64, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
  const err = await prepareError(await folder((d) => writeFileSync(join(d, 'cat', 'cut.png'), png.subarray(0, png.length / 2))));
  assert.match(err.message, /cat\/cut\.png: cannot be decoded/);
});

test('a non-image file fails the check, naming the file', async () => {
  const err = await prepareError(await folder((d) => writeFileSync(join(d, 'cat', 'notes.txt'), 'hello')));
  assert.match(err.message, /cat\/notes\.txt: not a JPEG or PNG file/);
});

test('an empty class folder fails, naming the folder', async () => {
  const err = await prepareError(await folder((d) => mkdirSync(join(d, 'emu'))));
  assert.match(err.message, /\/emu: empty class folder/);
});

test('a single class fails, naming the dataset folder', async () => {
  const err = await prepareError(await folder((d) => rmSync(join(d, 'dog'), { recursive: true })));
  assert.match(err.message, /scalenet-if-[^:]+: found 1 class folder\(s\) \("cat"\)/);
});

test('a symlink loop fails, naming the link', async () => {
  const err = await prepareError(await folder((d) => symlinkSync(join(d, 'cat'), join(d, 'cat', 'again'))));
  assert.match(err.message, /cat\/again: symlink loop/);
});

test('a decompression bomb (pixel count over dataset.maxPixels) fails before decoding, naming the file', async () => {
  // 4000×4000 of one colour compresses to a few kB; decoded it would be 48 MB.
  const bomb = await sharp({ create: { width: 4000, height: 4000, channels: 3, background: '#000' } }).png().toBuffer();
  assert.ok(bomb.length < 100_000);
  const err = await prepareError(await folder((d) => writeFileSync(join(d, 'dog', 'bomb.png'), bomb)));
  assert.match(err.message, /dog\/bomb\.png: 4000×4000 = 16000000 pixels exceeds dataset\.maxPixels \(1000000\)/);
});

test('with onBadImage: skip, bad files are left out and counted with their paths', async () => {
  const dir = await folder(async (d) => {
    writeFileSync(join(d, 'cat', 'notes.txt'), 'hello');
    writeFileSync(join(d, 'dog', 'bad.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0, 0]));
    symlinkSync(join(d, 'dog'), join(d, 'dog', 'loop'));
  });
  try {
    const src = localSource(dir);
    const r = await checkFiles(src, await scanFolder(src), { ...check, onBadImage: 'skip' });
    assert.equal(r.files.length, 6);
    assert.deepEqual(r.skipped.map((s) => s.file.slice(dir.length + 1)).sort(), ['cat/notes.txt', 'dog/bad.jpg', 'dog/loop']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('classes are the sorted sub-folder names; the minival split is stratified, seeded and leaves every class in train', () => {
  const files = Array.from({ length: 100 }, (_, i) => ({ name: `${i % 4}/${i}.png`, label: i < 70 ? 0 : 1 + (i % 3) }));
  const a = stratifiedSplit(files, 4, 20, 7);
  const b = stratifiedSplit(files, 4, 20, 7);
  assert.deepEqual(a, b);
  assert.equal(a.minival.length, 20);
  assert.equal(a.minival.filter((f) => f.label === 0).length, 14, '70 % of minival from the class with 70 % of the images');
  for (let k = 0; k < 4; k++) assert.ok(a.train.some((f) => f.label === k));
  assert.notDeepEqual(stratifiedSplit(files, 4, 20, 8).minival, a.minival);
});

async function streamingFixture(): Promise<{ data: StreamingData; dir: string; loads: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'scalenet-if-'));
  await writeFashionFolder(dir, { split: 'test', count: 120, colourPerClass: 1 });
  const src = localSource(dir);
  const scan = await scanFolder(src);
  assert.equal(scan.classes.length, 10);
  const { files } = await checkFiles(src, scan, check);
  const shards: EncodedImage[][] = [];
  for (let i = 0; i < files.length; i += 25) {
    const imgs = [];
    for (const f of files.slice(i, i + 25)) imgs.push({ label: f.label, name: f.name, bytes: await src.read(f.name) });
    shards.push(unpackEncodedShard(packEncodedShard(imgs), `shard-${i}`));
  }
  const loads: number[] = [];
  const split = { count: files.length, shards: shards.length, load: async (i: number) => (loads.push(i), shards[i] as EncodedImage[]) };
  const data: StreamingData = { train: split, minival: split, test: split, channels: 3, maxPixels: 1e6, randomResizedCrop: { scale: [0.08, 1], ratio: [3 / 4, 4 / 3] }, flip: true };
  return { data, dir, loads };
}

test('streamed training batches come at the requested resolution, and a source resumed from state() yields the same batches', async () => {
  const { data, dir } = await streamingFixture();
  try {
    const args = { batchSize: 16, seed: 5, transform: 'train' as const, shuffleBuffer: 32 };
    const a = new ShardBatchSource(data, data.train, args);
    const b1 = await a.next(24);
    assert.equal(b1.images.length, 16 * 24 * 24 * 3);
    assert.equal(b1.height, 24);
    for (let i = 0; i < 8; i++) await a.next(20); // crosses the epoch boundary (130 images)
    const state = a.state();
    assert.equal(state.epoch, 1);
    const b = new ShardBatchSource(data, data.train, args, JSON.parse(JSON.stringify(state)));
    for (let i = 0; i < 3; i++) {
      const [x, y] = [await a.next(32), await b.next(32)];
      assert.deepEqual(x.labels, y.labels);
      assert.deepEqual(x.images, y.images);
    }
    const fresh = new ShardBatchSource(data, data.train, args);
    assert.deepEqual((await fresh.next(24)).images, b1.images, 'same seed, same first batch');
    const other = new ShardBatchSource(data, data.train, { ...args, seed: 6 });
    assert.notDeepEqual((await other.next(24)).labels, b1.labels);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('evaluation batches are the split in order, centre-cropped at the resolution, and respect the image limit', async () => {
  const { data, dir } = await streamingFixture();
  try {
    const batches = [];
    for await (const b of encodedBatches(data, data.test, 28, 50, 110)) batches.push(b);
    assert.deepEqual(batches.map((b) => b.count), [50, 50, 10]);
    assert.equal(batches[0]!.images.length, 50 * 28 * 28 * 3);
    const again = [];
    for await (const b of encodedBatches(data, data.test, 28, 50, 110)) again.push(b);
    assert.deepEqual(again[2]!.images, batches[2]!.images);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
