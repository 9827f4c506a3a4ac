/**
 * Decoding ahead in the streamed training source (issue 13: decode overlaps compute): the batches, their
 * order and every pixel are the same whatever the window and whatever the announced resolutions; the
 * window stays bounded; a failure in a batch decoded ahead surfaces when that batch is asked for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import type { Batch, BatchStreamState } from '../../../data/batcher';
import { packEncodedShard, unpackEncodedShard, type EncodedImage } from '../../../data/encoded-shards';
import { BadImageError } from '../../../data/image-decode';
import { encodedBatches, ShardBatchSource, type EncodedSplit, type StreamingData } from '../../../data/stream';

/** Colour images of mixed sizes in shards of 10, so batches straddle shards and epochs. */
async function fixture(count = 45): Promise<StreamingData> {
  const images: EncodedImage[] = [];
  for (let i = 0; i < count; i++) {
    const [w, h] = [20 + (i % 7) * 6, 18 + (i % 5) * 8];
    const px = Buffer.alloc(w * h * 3);
    for (let p = 0; p < px.length; p++) px[p] = (p * 31 + i * 17) % 256;
    const img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
    images.push({ label: i % 4, name: `c${i % 4}/${i}.png`, bytes: await (i % 2 ? img.jpeg() : img.png()).toBuffer() });
  }
  const shards: EncodedImage[][] = [];
  for (let i = 0; i < count; i += 10) shards.push(unpackEncodedShard(packEncodedShard(images.slice(i, i + 10)), `shard-${i}`));
  const split: EncodedSplit = { count, shards: shards.length, load: async (i) => shards[i] as EncodedImage[] };
  return { train: split, minival: split, test: split, channels: 3, maxPixels: 1e6, randomResizedCrop: { scale: [0.08, 1], ratio: [3 / 4, 4 / 3] }, flip: true };
}

// A sampled sub-network's resolution changes from step to step.
const RESOLUTIONS = [24, 20, 32, 20, 20, 28, 24, 32, 16, 20, 24, 28];

type Hints = (step: number) => number[];
const exact = (n: number): Hints => (step) => RESOLUTIONS.slice(step + 1, step + 1 + n);

async function drain(src: ShardBatchSource, hints: Hints, from = 0): Promise<{ batches: Batch[]; states: BatchStreamState[] }> {
  const batches: Batch[] = [];
  const states: BatchStreamState[] = [];
  for (let step = from; step < RESOLUTIONS.length; step++) {
    batches.push(await src.next(RESOLUTIONS[step] as number, hints(step)));
    states.push(src.state());
  }
  return { batches, states };
}

const args = { batchSize: 8, seed: 3, transform: 'train' as const, shuffleBuffer: 12 };

test('decoding ahead yields bit-identical batches in the same order, whatever the window and the announced resolutions', async () => {
  const data = await fixture();
  const reference = await drain(new ShardBatchSource(data, data.train, { ...args, decodeAhead: 0 }), () => []);
  assert.ok(reference.states.some((s) => s.epoch > 0), 'the run crosses an epoch boundary');
  const variants: [string, number, Hints][] = [
    ['window 1, exact hints', 1, exact(1)],
    ['window 3, exact hints', 3, exact(3)],
    ['window 2, every hint wrong', 2, (step) => [RESOLUTIONS[step + 1] === 16 ? 40 : 16, 12]],
    ['window 2, hints only sometimes', 2, (step) => (step % 3 === 0 ? exact(2)(step) : [])],
  ];
  for (const [name, decodeAhead, hints] of variants) {
    const got = await drain(new ShardBatchSource(data, data.train, { ...args, decodeAhead }), hints);
    assert.deepEqual(got.states, reference.states, `${name}: state() counts only the batches handed out`);
    got.batches.forEach((b, i) => {
      assert.equal(b.height, RESOLUTIONS[i], `${name}: batch ${i} at the resolution asked for`);
      assert.deepEqual(b.labels, reference.batches[i]!.labels, `${name}: batch ${i} labels`);
      assert.deepEqual(b.images, reference.batches[i]!.images, `${name}: batch ${i} pixels`);
    });
  }
});

test('a source resumed from the state of a stream that was decoding ahead continues with exactly the same batches', async () => {
  const data = await fixture();
  const reference = await drain(new ShardBatchSource(data, data.train, { ...args, decodeAhead: 0 }), () => []);
  const first = new ShardBatchSource(data, data.train, { ...args, decodeAhead: 2 });
  for (let step = 0; step < 5; step++) await first.next(RESOLUTIONS[step] as number, exact(2)(step));
  assert.equal(first.decodingAhead, 2, 'two batches were drawn beyond the saved state');
  const resumed = new ShardBatchSource(data, data.train, { ...args, decodeAhead: 2 }, JSON.parse(JSON.stringify(first.state())) as BatchStreamState);
  const rest = await drain(resumed, exact(2), 5);
  rest.batches.forEach((b, i) => assert.deepEqual(b.images, reference.batches[5 + i]!.images, `batch ${5 + i} after resuming`));
});

test('the decode-ahead window is bounded by decodeAhead however many resolutions are announced, and is empty without hints', async () => {
  const data = await fixture();
  const long = Array.from({ length: 50 }, () => 24);
  const src = new ShardBatchSource(data, data.train, { ...args, decodeAhead: 2 });
  assert.equal(src.lookahead, 2);
  for (let i = 0; i < 6; i++) {
    await src.next(24, long);
    assert.equal(src.decodingAhead, 2, `after batch ${i}`);
  }
  const none = new ShardBatchSource(data, data.train, { ...args, decodeAhead: 0 });
  await none.next(24, long);
  assert.equal(none.decodingAhead, 0, 'decodeAhead 0 decodes on demand only');
  const quiet = new ShardBatchSource(data, data.train, args);
  await quiet.next(24);
  assert.equal(quiet.decodingAhead, 0, 'nothing is drawn ahead without hints');
  assert.throws(() => new ShardBatchSource(data, data.train, { ...args, decodeAhead: -1 }), /decodeAhead must be an integer >= 0/);
});

test('a bad image in a batch decoded ahead fails when that batch is asked for, naming the file, never as an unhandled rejection', async () => {
  const good = await sharp(Buffer.alloc(16 * 16 * 3, 70), { raw: { width: 16, height: 16, channels: 3 } }).png().toBuffer();
  const big = await sharp(Buffer.alloc(64 * 64 * 3, 90), { raw: { width: 64, height: 64, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
  const items: EncodedImage[] = [0, 1, 2].map((i) => ({ label: i % 2, name: `c${i % 2}/${i}.png`, bytes: good }));
  // The header is intact (so the crop is drawn), the pixel data is cut: only the decode fails.
  items.push({ label: 1, name: 'c1/cut.png', bytes: big.subarray(0, big.length / 2) });
  const shard = unpackEncodedShard(packEncodedShard(items), 'shard');
  const split: EncodedSplit = { count: 4, shards: 1, load: async () => shard };
  const data: StreamingData = { ...(await fixture(2)), train: split };
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  try {
    // A shuffle buffer of one keeps the shard's order: the cut file is in the second batch.
    const src = new ShardBatchSource(data, split, { batchSize: 2, seed: 1, transform: 'train', shuffleBuffer: 1, decodeAhead: 1 });
    const first = await src.next(16, [16]);
    assert.equal(first.count, 2);
    await new Promise((r) => setImmediate(r));
    await assert.rejects(src.next(16), (err: unknown) => err instanceof BadImageError && /c1\/cut\.png: cannot be decoded/.test(err.message));
    assert.deepEqual(src.state(), { seed: 1, epoch: 0, position: 2 }, 'the failed batch was not counted as delivered');
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  assert.deepEqual(unhandled, []);
});

test('evaluation batches decoded ahead are the same as decoded one at a time', async () => {
  const data = await fixture();
  const collect = async (ahead: number) => {
    const out: Batch[] = [];
    for await (const b of encodedBatches(data, data.test, 24, 8, 43, ahead)) out.push(b);
    return out;
  };
  const [plain, ahead] = [await collect(0), await collect(3)];
  assert.deepEqual(plain.map((b) => b.count), [8, 8, 8, 8, 8, 3]);
  assert.deepEqual(ahead.map((b) => b.images), plain.map((b) => b.images));
  assert.deepEqual(ahead.map((b) => b.labels), plain.map((b) => b.labels));
});
