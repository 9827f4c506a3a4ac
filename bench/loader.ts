/**
 * The image-folder loader row (issue 13): images/s of decode + random-resized-crop + flip from encoded
 * shards at 64 px and 128 px with one core (one libuv thread, so one sharp decode at a time), next to
 * the training step's consumption rate for the same sub-network (the `cifar` bench base at that
 * resolution, batch 32), and their ratio. The loader must deliver at least 2× what training consumes at
 * 64 px. The last two columns train the same network fed by the streamed loader itself, with the next
 * batches decoding during each step (decode ahead 2, the default) and decoded on demand (0): what the
 * overlap buys end to end.
 *
 *   UV_THREADPOOL_SIZE=1 npx tsx bench/loader.ts [--images 512] [--steps 8] [--backend auto]
 */
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { getPreset } from '../core/presets';
import { Rng } from '../core/rng';
import type { Dataset } from '../data/dataset';
import { packEncodedShard, unpackEncodedShard, type EncodedImage } from '../data/encoded-shards';
import { ShardBatchSource, type StreamingData } from '../data/stream';
import { initBackend, type BackendKind } from '../nn/backend';
import { StandaloneTrainer } from '../nn/trainer';
import { benchFixture, BENCH_SUBNETS, option } from './common';

async function photos(n: number): Promise<EncodedImage[]> {
  const rng = new Rng('loader-bench');
  const out: EncodedImage[] = [];
  for (let i = 0; i < n; i++) {
    // Photo-like sizes around ImageNet's (the loader's cost is the decode of the full-size JPEG).
    const [w, h] = [rng.int(300, 500), rng.int(300, 400)];
    const px = Buffer.alloc(w * h * 3);
    for (let p = 0; p < px.length; p++) px[p] = (p * 7 + i * 13 + ((p / 3) % w) * 2) % 256;
    out.push({ label: i % 10, name: `c${i % 10}/${i}.jpg`, bytes: await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 85 }).toBuffer() });
  }
  return out;
}

/** Images/s of `steps` training steps of the bench sub-network at `r` on `data` (after one warm-up step). */
async function trainingRate(data: Dataset, r: number, steps: number): Promise<number> {
  const space = getPreset('cifar');
  const arch = { ...(BENCH_SUBNETS.cifar as NonNullable<typeof BENCH_SUBNETS.cifar>), resolution: r };
  const trainer = StandaloneTrainer.create({ space, arch, data, seed: 0, recipe: { batchSize: 32, steps: 1000 } });
  await trainer.train(1);
  const t = performance.now();
  await trainer.train(steps);
  trainer.dispose();
  return (steps * 32) / ((performance.now() - t) / 1000);
}

async function main(): Promise<void> {
  process.env.UV_THREADPOOL_SIZE ??= '1';
  sharp.concurrency(1);
  const n = Number(option('images', '512'));
  const steps = Number(option('steps', '8'));
  const shard = unpackEncodedShard(packEncodedShard(await photos(n)), 'bench');
  const split = { count: n, shards: 1, load: async () => shard };
  const streaming = (decodeAhead: number): StreamingData => ({
    train: split, minival: split, test: split, channels: 3, maxPixels: 40e6,
    randomResizedCrop: { scale: [0.08, 1], ratio: [3 / 4, 4 / 3] }, flip: true, decodeAhead,
  });
  await initBackend(option('backend', 'auto') as BackendKind, { log: () => undefined });
  console.log(`backend ${tf.getBackend()}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE}, ${n} JPEGs of 300-500 × 300-400 px, batch 32`);
  console.log('| resolution | loader img/s (1 core) | training consumes img/s | loader ÷ training | training fed by the loader, decode ahead 2 img/s | same, decoded on demand img/s |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of [64, 128]) {
    const data = streaming(0);
    const src = new ShardBatchSource(data, data.train, { batchSize: 32, seed: 1, transform: 'train' });
    await src.next(r);
    const t = performance.now();
    let images = 0;
    while (images < n) images += (await src.next(r)).count;
    const loader = images / ((performance.now() - t) / 1000);
    const fixture = benchFixture('cifar', 32);
    fixture.trainer.dispose();
    const synth = fixture.data;
    const train = await trainingRate(synth, r, steps);
    const fedAhead = await trainingRate({ ...synth, streaming: streaming(2) }, r, steps);
    const fedOnDemand = await trainingRate({ ...synth, streaming: streaming(0) }, r, steps);
    console.log(`| ${r} px | ${loader.toFixed(0)} | ${train.toFixed(1)} | ${(loader / train).toFixed(1)}× | ${fedAhead.toFixed(1)} | ${fedOnDemand.toFixed(1)} |`);
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
