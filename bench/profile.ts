/**
 * Where the time of one engine step goes: kernel time per tfjs op (tf.profile) against the step's wall
 * time, for the bench's fixed sub-networks. The difference between the two is JavaScript and binding
 * overhead (op dispatch, tensor bookkeeping, gradient tape). Never part of the test run.
 *
 * Evaluation is profiled per batch with BN already folded (as evaluateSubnetwork runs it). Recalibration is
 * profiled as `--recal-batches` batches (default 1) of one recalibrateBn call, so its per-candidate work (final
 * statistics) is spread as the search spreads it. `--supernet` takes the sub-network's weights as leading slices
 * of a super-supernet's shared tensors, as the search does (the default is a standalone network, as bench/main.ts).
 * Besides wall time, the process's CPU time per step (all threads) is printed: on a machine shared with other
 * jobs it moves less than wall time.
 *
 *   npx tsx bench/profile.ts [--backend tensorflow] [--preset tiny] [--phase train|recalibrate|evaluate] [--batch 64] [--top 15]
 *                            [--recal-batches 1] [--supernet]
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchStream, batchToTensor } from '../data';
import { initBackend, type BackendKind } from '../nn/backend';
import { FoldedNetwork, recalibrateBn } from '../nn/evaluate';
import { SupernetTrainer } from '../nn/trainer';
import { benchFixture, option } from './common';

async function run(): Promise<void> {
  const backend = await initBackend(option('backend', 'tensorflow') as BackendKind, { log: () => {} });
  const preset = option('preset', 'tiny');
  const phase = option('phase', 'train');
  const batch = Number(option('batch', preset === 'cifar' ? '32' : '64'));
  const top = Number(option('top', '15'));
  const recalBatches = Number(option('recal-batches', '1'));
  const { space, arch, net, data, trainer } = benchFixture(preset, batch);
  const supernet = process.argv.includes('--supernet') ? SupernetTrainer.create({ space, data, seed: 0, recipe: { batchSize: batch, steps: 1000 } }) : undefined;
  const store = supernet?.store ?? trainer.store;
  const stats = await recalibrateBn(store, net, data.train, data.normalization, { batches: 1, batchSize: batch });
  const x = batchToTensor(new BatchStream(data.train, { batchSize: batch, seed: 1 }).next(), data.normalization, arch.resolution);
  const folded = FoldedNetwork.create(store, net, stats);
  const once = async (): Promise<void> => {
    if (phase === 'train') (supernet ?? trainer).trainOneStep();
    else if (phase === 'recalibrate') (await recalibrateBn(store, net, data.train, data.normalization, { batches: recalBatches, batchSize: batch })).dispose();
    else {
      const y = folded.predict(x);
      y.dataSync();
      y.dispose();
    }
  };
  for (let i = 0; i < 3; i++) await once(); // warm-up
  const reps = 10;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) await once();
  const perStep = phase === 'recalibrate' ? reps * recalBatches : reps;
  const wallMs = (performance.now() - t0) / perStep;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / perStep;
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
  const per = phase === 'recalibrate' ? recalBatches : 1;
  console.log(`${backend} ${preset}/${phase} batch ${batch}${supernet ? ' (supernet slices)' : ''}: wall ${wallMs.toFixed(1)} ms/batch, cpu ${cpuMs.toFixed(1)} ms/batch ` +
    `(unprofiled mean of ${perStep}), ${(info.kernels.length / per).toFixed(1)} kernels/batch, kernel time ${(kernelMs / per).toFixed(1)} ms/batch (${((100 * kernelMs) / per / wallMs).toFixed(0)} % of wall)`);
  console.log('| op | calls | ms | % of kernel time |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [name, e] of [...byOp].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    console.log(`| ${name} | ${e.n} | ${e.ms.toFixed(1)} | ${((100 * e.ms) / kernelMs).toFixed(1)} |`);
  }
  x.dispose();
  folded.dispose();
  stats.dispose();
  trainer.dispose();
  supernet?.dispose();
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
