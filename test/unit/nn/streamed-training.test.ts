/**
 * Supernet training from a streamed image-folder dataset while batches decode ahead (issue 13): peeking at
 * the next steps' resolutions must not move the sampler, so the paths, the losses and the saved state are
 * those of a stream that decodes on demand, and a restored trainer continues the same way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import type { Dataset } from '../../../data';
import { packEncodedShard, unpackEncodedShard, type EncodedImage } from '../../../data/encoded-shards';
import type { EncodedSplit, StreamingData } from '../../../data/stream';
import { SupernetTrainer, type StepProgress } from '../../../nn/trainer';
import { describeOnEngineBackends, microData, microSpace } from './helpers';

async function streamed(decodeAhead: number): Promise<Dataset> {
  const images: EncodedImage[] = [];
  for (let i = 0; i < 48; i++) {
    const [w, h] = [14 + (i % 3) * 4, 12 + (i % 4) * 3];
    const px = Buffer.alloc(w * h);
    for (let p = 0; p < px.length; p++) px[p] = ((i % 4) * 60 + p * 7) % 256;
    images.push({ label: i % 4, name: `c${i % 4}/${i}.png`, bytes: await sharp(px, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer() });
  }
  const shards = [0, 16, 32].map((s) => unpackEncodedShard(packEncodedShard(images.slice(s, s + 16)), `shard-${s}`));
  const split: EncodedSplit = { count: 48, shards: 3, load: async (i) => shards[i] as EncodedImage[] };
  const streaming: StreamingData = {
    train: split, minival: split, test: split, channels: 1, maxPixels: 1e6,
    randomResizedCrop: { scale: [0.3, 1], ratio: [3 / 4, 4 / 3] }, flip: true, decodeAhead,
  };
  return { ...microData(), streaming };
}

const recipe = { batchSize: 8, steps: 20 };

describeOnEngineBackends(() => {
  test('decoding ahead leaves the sampled paths, the losses and the saved trainer state unchanged, also across a restore', async () => {
    const space = microSpace();
    const run = async (decodeAhead: number) => {
      const steps: StepProgress[] = [];
      const t = SupernetTrainer.create({ space, data: await streamed(decodeAhead), seed: 9, recipe });
      await t.train(6, (p) => void steps.push(p));
      const state = await t.serialize();
      t.dispose();
      return { steps, header: state.header };
    };
    const [onDemand, ahead] = [await run(0), await run(2)];
    assert.ok(new Set(onDemand.steps.map((s) => s.arch.resolution)).size > 1, 'the sampled resolutions vary');
    assert.deepEqual(ahead.steps.map((s) => [s.arch, s.loss]), onDemand.steps.map((s) => [s.arch, s.loss]));
    assert.deepEqual([ahead.header.samplerRng, ahead.header.data], [onDemand.header.samplerRng, onDemand.header.data]);

    const data = await streamed(2);
    const first = SupernetTrainer.create({ space, data, seed: 9, recipe });
    await first.train(3);
    const restored = SupernetTrainer.restore({ space, data }, await first.serialize());
    first.dispose();
    const rest: StepProgress[] = [];
    await restored.train(3, (p) => void rest.push(p));
    restored.dispose();
    assert.deepEqual(rest.map((s) => [s.arch, s.loss]), onDemand.steps.slice(3).map((s) => [s.arch, s.loss]));
  });
});
