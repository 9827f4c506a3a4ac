/**
 * Measures training recipes on Fashion-MNIST (tiny preset), the numbers behind the demo's recipe (issue 11):
 *
 *   standalone: trains fixed architectures from scratch and reports full-test-set accuracy and seconds;
 *   supernet:   trains the super-supernet, then scores the same architectures with shared weights
 *               (recalibrated BN, several recalibration sizes) next to their standalone accuracy.
 *
 *   npx tsx bench/recipe-probe.ts standalone --steps 900 --batch 64 --lr 0.1 [--levels 0,1,2] [--no-augment]
 *   npx tsx bench/recipe-probe.ts supernet --steps 1200 --batch 64 --lr 0.1 [--warmup 0.05] [--level-weights uniform]
 */
import { resolveSpace, parseConfigObject } from '../core/config';
import { Rng } from '../core/rng';
import { randomAdmissibleBase } from '../core/sampler';
import { levelTriples, isScaledFeasible } from '../core/feasibility';
import type { Architecture } from '../core/arch';
import { loadDataset } from '../data';
import { evaluateSubnetwork, initBackend, StandaloneTrainer, SupernetTrainer, type TrainingRecipeInput } from '../nn';

function option(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] as string) : dflt;
}

/** A fixed base and, per level, its middle feasible triple: a stand-in for a searched family. */
function probeFamily(seed: number): Architecture[] {
  const space = resolveSpace(parseConfigObject({ name: 'probe' }));
  const base = randomAdmissibleBase(space, new Rng(`probe:${seed}`));
  return space.levels.map((_, level) => {
    const feasible = levelTriples(space, level).filter((m) => isScaledFeasible(space, base, level, m));
    const m = feasible[Math.floor(feasible.length / 2)] ?? levelTriples(space, level)[0]!;
    return { stages: base, ...m };
  });
}

async function main(): Promise<void> {
  const mode = process.argv[2] ?? 'standalone';
  await initBackend('auto', { log: () => undefined });
  const space = resolveSpace(parseConfigObject({ name: 'probe' }));
  const augment = !process.argv.includes('--no-augment');
  const data = loadDataset({ kind: 'fashion-mnist', augment: augment ? undefined : { crop: false, flip: false } }, { minivalSize: Number(option('minival', '2000')), seed: 0 });
  const steps = Number(option('steps', '600'));
  const recipe: TrainingRecipeInput = {
    steps,
    batchSize: Number(option('batch', '64')),
    learningRate: Number(option('lr', '0.1')),
    warmupSteps: Math.round(Number(option('warmup', '0.05')) * steps),
    weightDecay: Number(option('wd', '4e-5')),
    labelSmoothing: Number(option('ls', '0.1')),
    levelWeights: option('level-weights', 'gridSize') as 'gridSize',
  };
  const family = probeFamily(Number(option('family-seed', '3')));
  const levels = option('levels', '0,1,2').split(',').map(Number);
  const testImages = Number(option('test-images', '10000'));
  console.log(JSON.stringify({ mode, recipe, augment, family: levels.map((l) => family[l]) }));
  if (mode === 'standalone') {
    for (const l of levels) {
      const arch = family[l]!;
      const trainer = StandaloneTrainer.create({ space, data, seed: 1, arch, recipe });
      const t0 = Date.now();
      let lossSum = 0;
      await trainer.train(steps, (p) => { lossSum += p.loss; if (p.step % 200 === 0) { console.log(`  L${l} step ${p.step} loss ${(lossSum / 200).toFixed(3)} ${((Date.now() - t0) / 1000).toFixed(0)} s`); lossSum = 0; } });
      const sec = (Date.now() - t0) / 1000;
      const test = await evaluateSubnetwork(trainer, arch, data, { split: 'test', maxImages: testImages, recalibration: { batches: 10, batchSize: 64 }, batchSize: 250 });
      console.log(JSON.stringify({ level: l, steps, test: test.accuracy, seconds: sec, imgPerSec: (steps * recipe.batchSize!) / sec }));
      trainer.dispose();
    }
  } else {
    const trainer = SupernetTrainer.create({ space, data, seed: 1, recipe });
    const t0 = Date.now();
    let lossSum = 0;
    await trainer.train(steps, (p) => { lossSum += p.loss; if (p.step % 200 === 0) { console.log(`  step ${p.step} loss ${(lossSum / 200).toFixed(3)} ${((Date.now() - t0) / 1000).toFixed(0)} s`); lossSum = 0; } });
    console.log(`supernet ${steps} steps in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    for (const l of levels) {
      const arch = family[l]!;
      const row: Record<string, number | string> = { level: l };
      for (const [b, bs] of [[2, 32], [10, 64], [20, 128]] as const) {
        const r = await evaluateSubnetwork(trainer, arch, data, { split: 'minival', recalibration: { batches: b, batchSize: bs }, batchSize: 250 });
        row[`cal${b}x${bs}`] = r.accuracy;
      }
      console.log(JSON.stringify(row));
    }
    trainer.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
