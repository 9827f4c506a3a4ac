/**
 * Retrains one architecture exactly as the retraining stage does (activities/retrain.ts: the config's recipe,
 * seed `seed + repeat`, test accuracy with BN recalibrated on 10 training batches), for several step counts and a
 * learning rate of your choice: the measurement behind the demo's retraining recipe (bench/README.md, "Retraining:
 * learning rate and steps"). Never part of the test run.
 *
 *   npx tsx bench/retrain-probe.ts --config examples/demo.yaml --arch '{"stages":[[5],[3,5],[5,5],[5,5]],"depth":1,"width":1,"resolution":28}' \
 *     [--steps 350,450] [--lr 0.4] [--repeat 0]
 *
 * Accuracies do not depend on the thread count (TF_NUM_INTRAOP_THREADS / SCALENET_KERNEL_THREADS), so two probes at
 * one thread each use a 2-core machine fully.
 */
import { REPORT_RECALIBRATION, retrainRecipe } from '../activities/retrain';
import { loadConfigFile } from '../cli/config-file';
import { validateArchitecture } from '../core/arch';
import { resolveSpace } from '../core/config';
import { loadDataset } from '../data/dataset';
import { initBackend } from '../nn/backend';
import { evaluateSubnetwork } from '../nn/evaluate';
import { StandaloneTrainer } from '../nn/trainer';
import { option } from './common';

async function main(): Promise<void> {
  const config = loadConfigFile(option('config', 'examples/demo.yaml'));
  const space = resolveSpace(config);
  const arch = validateArchitecture(space, JSON.parse(option('arch', '')));
  await initBackend('auto', { log: () => undefined });
  const data = loadDataset(config.dataset, { minivalSize: config.search.minivalSize, seed: config.seed });
  const stepsPerEpoch = config.retraining.stepsPerEpoch ?? Math.ceil(data.train.count / config.retraining.batchSize);
  const lr = Number(option('lr', String(config.retraining.lr)));
  const repeat = Number(option('repeat', '0'));
  for (const steps of option('steps', String(config.retraining.epochs * stepsPerEpoch)).split(',').map(Number)) {
    const recipe = { ...retrainRecipe(config, stepsPerEpoch, steps), learningRate: lr };
    const trainer = StandaloneTrainer.create({ space, data, seed: config.seed + repeat, arch, recipe });
    try {
      const t0 = Date.now();
      await trainer.train(steps);
      const test = await evaluateSubnetwork(trainer, arch, data, {
        split: 'test', maxImages: config.retraining.testImages ?? undefined, recalibration: { ...REPORT_RECALIBRATION, seed: config.seed }, batchSize: config.search.evalBatchSize,
      });
      console.log(JSON.stringify({ steps, batchSize: recipe.batchSize, lr, seed: config.seed + repeat, testAccuracy: test.accuracy, correct: test.correct, total: test.total, seconds: (Date.now() - t0) / 1000 }));
    } finally {
      trainer.dispose();
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
