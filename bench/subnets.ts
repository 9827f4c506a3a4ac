/** The bench's fixed sub-networks: the level-0 bases of each preset at the base resolution. */
import type { Architecture } from '../core/arch';

export const BENCH_SUBNETS: Record<string, Architecture> = {
  tiny: { stages: [[3], [5, 3], [3, 5, 3], [5, 3]], depth: 1, width: 1, resolution: 28 },
  cifar: { stages: [[3], [3, 5], [5, 3, 3], [3, 5], [5, 3], [3]], depth: 1, width: 1, resolution: 32 },
};
