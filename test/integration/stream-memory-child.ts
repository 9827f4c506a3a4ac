/**
 * Child of image-folder-memory.test.ts: streams one epoch of training batches (64 px, augmented) and one
 * evaluation pass of a prepared image-folder dataset through the workers' own code path (datasetFromRef,
 * its bounded shard cache, the shuffle buffer, batches decoded ahead), and prints the peak RSS it saw as JSON.
 */
import { readFileSync } from 'node:fs';
import { datasetFromRef } from '../../activities/runtime';
import { ImageFolderDatasetSchema } from '../../core/config';
import type { DataRef } from '../../core/pipeline';
import { evaluationBatches, trainingBatches } from '../../data/stream';
import { testStore } from '../helpers/env';

async function main(): Promise<void> {
  const ref = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as DataRef;
  const store = await testStore();
  const cfg = ImageFolderDatasetSchema.parse({ kind: 'image-folder', train: '/unused', test: '/unused', channels: 1 });
  const data = await datasetFromRef(store, ref, cfg);
  let peak = 0;
  const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
  const src = trainingBatches(data, { batchSize: 64, seed: 1 });
  let images = 0;
  while (src.state().epoch === 0) {
    // As the trainer asks: announcing the next resolutions, so the batches decoded ahead are in the measurement.
    images += (await src.next(64, new Array<number>(src.lookahead ?? 0).fill(64))).count;
    sample();
  }
  for await (const b of evaluationBatches(data, 'test', 64, 128, ref.counts.test)) {
    images += b.count;
    sample();
  }
  console.log(JSON.stringify({ peakRssBytes: peak, images }));
}

main().catch((err) => { console.error(err); process.exit(1); });
