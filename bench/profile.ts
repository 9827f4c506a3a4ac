/**
 * Where the time of one engine step goes: kernel time per tfjs op (tf.profile) against the step's wall
 * time, for the bench's fixed sub-networks. The difference between the two is JavaScript and binding
 * overhead (op dispatch, tensor bookkeeping, gradient tape). Never part of the test run.
 *
 * Evaluation is profiled per batch with BN already folded (as evaluateSubnetwork runs it).
 *
 *   npx tsx bench/profile.ts [--backend tensorflow] [--preset tiny] [--phase train|recalibrate|evaluate] [--batch 64] [--top 15]
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchStream, batchToTensor } from '../data';
import { initBackend, type BackendKind } from '../nn/backend';
import { FoldedNetwork, recalibrateBn } from '../nn/evaluate';
import { benchFixture, option } from './common';

async function run(): Promise<void> {
  const backend = await initBackend(option('backend', 'tensorflow') as BackendKind, { log: () => {} });
  const preset = option('preset', 'tiny');
  const phase = option('phase', 'train');
  const batch = Number(option('batch', preset === 'cifar' ? '32' : '64'));
  const top = Number(option('top', '15'));
  const { arch, net, data, trainer } = benchFixture(preset, batch);
  const stats = await recalibrateBn(trainer.store, net, data.train, data.normalization, { batches: 1, batchSize: batch });
  const x = batchToTensor(new BatchStream(data.train, { batchSize: batch, seed: 1 }).next(), data.normalization, arch.resolution);
  const folded = FoldedNetwork.create(trainer.store, net, stats);
  const once = async (): Promise<void> => {
    if (phase === 'train') trainer.trainOneStep();
    else if (phase === 'recalibrate') (await recalibrateBn(trainer.store, net, data.train, data.normalization, { batches: 1, batchSize: batch })).dispose();
    else {
      const y = folded.predict(x);
      y.dataSync();
      y.dispose();
    }
  };
  for (let i = 0; i < 3; i++) await once(); // warm-up
  const reps = 10;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await once();
  const wallMs = (performance.now() - t0) / reps;
  const info = await tf.profile(once);
  const byOp = new Map<string, { n: number; ms: number }>();
  let kernelMs = 0;
  for (const k of info.kernels) {
    const ms = Number(await k.kernelTimeMs);
    kernelMs += ms;
    const e = byOp.get(k.name) ?? { n: 0, ms: 0 };
    e.n += 1;
    e.ms += ms;
    byOp.set(k.name, e);
  }
  console.log(`${backend} ${preset}/${phase} batch ${batch}: wall ${wallMs.toFixed(1)} ms/step (unprofiled mean of ${reps}), ` +
    `${info.kernels.length} kernels, kernel time ${kernelMs.toFixed(1)} ms (${((100 * kernelMs) / wallMs).toFixed(0)} % of wall)`);
  console.log('| op | calls | ms | % of kernel time |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [name, e] of [...byOp].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    console.log(`| ${name} | ${e.n} | ${e.ms.toFixed(1)} | ${((100 * e.ms) / kernelMs).toFixed(1)} |`);
  }
  x.dispose();
  folded.dispose();
  stats.dispose();
  trainer.dispose();
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
