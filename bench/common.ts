/** What the bench scripts share: command-line options and the fixed sub-networks with their synthetic data. */
import type { Architecture } from '../core/arch';
import { getPreset } from '../core/presets';
import { scaleNetwork, type ScaledNetwork } from '../core/scaling';
import type { SearchSpace } from '../core/space';
import { loadDataset, type Dataset } from '../data';
import { StandaloneTrainer } from '../nn/trainer';

/** The bench's fixed sub-networks: the level-0 bases of each preset at the base resolution. */
export const BENCH_SUBNETS: Record<string, Architecture> = {
  tiny: { stages: [[3], [5, 3], [3, 5, 3], [5, 3]], depth: 1, width: 1, resolution: 28 },
  cifar: { stages: [[3], [3, 5], [5, 3, 3], [3, 5], [5, 3], [3]], depth: 1, width: 1, resolution: 32 },
};

/** The value after `--name` on the command line, else `dflt`. */
export function option(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
}

/**
 * A preset's fixed sub-network as a standalone trainer (training batch `batch`) on `trainSize` synthetic images
 * of the preset's shape (default 8 batches).
 */
export function benchFixture(preset: string, batch: number, trainSize = batch * 8): { space: SearchSpace; arch: Architecture; net: ScaledNetwork; data: Dataset; trainer: StandaloneTrainer } {
  const space = getPreset(preset);
  const arch = BENCH_SUBNETS[preset] as Architecture;
  const [h, c] = preset === 'tiny' ? [28, 1] : [32, 3];
  const data = loadDataset({ kind: 'synthetic', trainSize, testSize: batch, resolution: h, channels: c, classes: space.classes }, { minivalSize: batch });
  const trainer = StandaloneTrainer.create({ space, arch, data, seed: 0, recipe: { batchSize: batch, steps: 1000 } });
  return { space, arch, net: scaleNetwork(space, arch), data, trainer };
}
