/**
 * Acceptance measurement of issue 4: a few minutes of super-supernet training on Fashion-MNIST (tiny
 * preset, CPU) and the minival accuracy of sampled sub-networks with recalibrated BN vs. without
 * (the supernet's running statistics) vs. per-batch statistics (the reference code's evaluation).
 *
 *   npx tsx bench/supernet-sanity.ts [--steps 300] [--batch 32] [--lr 0.3] [--subnets 5] [--eval-images 2000] [--json]
 *
 * Batch 32 keeps the largest tiny sub-networks (level 2, 40 px) inside the wasm heap; lr 0.3 learned
 * fastest in a short run (a tiny base, 100 steps: lr 0.03 → 44%, 0.1 → 63%, 0.3 → 72% minival).
 */
import { getPreset } from '../core/presets';
import { Rng } from '../core/rng';
import { hierarchicalSampler } from '../core/sampler';
import { loadDataset } from '../data';
import { evaluateSubnetwork, initBackend, SupernetTrainer } from '../nn';

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function run(): Promise<void> {
  const json = process.argv.includes('--json');
  const log = (line: string): void => {
    if (!json) console.log(line);
  };
  const backend = await initBackend('auto', { log });
  const steps = flag('steps', 300);
  const learningRate = flag('lr', 0.3);
  const batchSize = flag('batch', 32);
  const subnets = flag('subnets', 5);
  const evalImages = flag('eval-images', 2000);
  const space = getPreset('tiny');
  const data = loadDataset({ kind: 'fashion-mnist' }, { minivalSize: 10000, seed: 0 });
  const trainer = SupernetTrainer.create({ space, data, seed: 0, recipe: { steps, batchSize, learningRate } });
  const t0 = Date.now();
  await trainer.train(steps, (p) => {
    if (p.step % 20 === 0) log(`step ${p.step}/${steps} loss ${p.loss.toFixed(3)} lr ${p.learningRate.toFixed(4)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  });
  const trainSeconds = (Date.now() - t0) / 1000;
  const rng = new Rng('sanity-subnets');
  const rows: Array<{ arch: string; recalibrated: number; running: number; batchStats: number }> = [];
  for (let i = 0; i < subnets; i++) {
    const { arch } = hierarchicalSampler(space, rng);
    const opts = { maxImages: evalImages, recalibration: { batches: 10, batchSize: 64 } };
    const recal = await evaluateSubnetwork(trainer, arch, data, { ...opts, bn: 'recalibrate' });
    const running = await evaluateSubnetwork(trainer, arch, data, { ...opts, bn: 'running' });
    const batch = await evaluateSubnetwork(trainer, arch, data, { ...opts, bn: 'batch' });
    const row = { arch: JSON.stringify(arch), recalibrated: recal.accuracy, running: running.accuracy, batchStats: batch.accuracy };
    rows.push(row);
    log(`${row.arch}: recalibrated ${(100 * row.recalibrated).toFixed(1)}%  running (uncalibrated) ${(100 * row.running).toFixed(1)}%  batch stats ${(100 * row.batchStats).toFixed(1)}%`);
  }
  const mean = (k: 'recalibrated' | 'running' | 'batchStats'): number => rows.reduce((a, r) => a + r[k], 0) / rows.length;
  const summary = {
    name: 'supernet-sanity', backend, dataset: 'fashion-mnist', preset: 'tiny', steps, batchSize, learningRate, trainSeconds,
    evalImages, subnets: rows.length, chance: 0.1,
    meanRecalibrated: mean('recalibrated'), meanRunning: mean('running'), meanBatchStats: mean('batchStats'), rows,
  };
  if (json) console.log(JSON.stringify(summary));
  else log(`mean minival accuracy over ${rows.length} sampled sub-networks (chance 10%): recalibrated ${(100 * summary.meanRecalibrated).toFixed(1)}%, running/uncalibrated ${(100 * summary.meanRunning).toFixed(1)}%, batch statistics ${(100 * summary.meanBatchStats).toFixed(1)}%; training ${trainSeconds.toFixed(0)} s`);
  trainer.dispose();
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
