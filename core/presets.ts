/**
 * Built-in search spaces. All share one schema ({@link SearchSpaceSchema}) so every tool works on all of
 * them; each level's grids are chosen so that scaling a typical base to level s lands near 2^s times its
 * MACs (the super-supernet's premise: level s targets about 2^s × the base FLOPs).
 */
import { parseSearchSpace, type SearchSpace, type SearchSpaceInput } from './space';

/** Evenly spaced grid lo, lo+step, …, hi, rounded to 2 decimals (avoids 1.2000000000000002). */
function grid(lo: number, hi: number, step: number): number[] {
  const n = Math.round((hi - lo) / step);
  return Array.from({ length: n + 1 }, (_, i) => Math.round((lo + i * step) * 100) / 100);
}

type StageRow = [out: number, stride: 1 | 2, expansion: number, maxDepth: number];
function stages(rows: StageRow[], kernels: number[]): SearchSpaceInput['stages'] {
  return rows.map(([out, stride, expansion, maxDepth]) => ({ out, stride, expansion, maxDepth, kernels: kernels.slice() }));
}

/**
 * `paper` — the published ImageNet space (DESIGN §3.1), as in the reference configuration: 224 px RGB,
 * 1000 classes, stem 3×3/2 to 32, seven MBConv-SE stages, head 1×1 to 1280, kernels {3,5,7},
 * base target 306M MACs ± 25M, scaled check ± 50M·2^s (the reference code's err_base / err_scale).
 */
const paper: SearchSpaceInput = {
  name: 'paper',
  inputChannels: 3,
  classes: 1000,
  resolution: 224,
  stem: { kernel: 3, stride: 2, out: 32 },
  stages: stages([[16, 1, 1, 1], [32, 2, 6, 4], [40, 2, 6, 4], [80, 2, 6, 4], [96, 1, 6, 4], [192, 2, 6, 4], [320, 1, 6, 1]], [3, 5, 7]),
  head: { out: 1280 },
  seReduction: 4,
  levels: [
    { depth: [1], width: [1], resolution: [224] },
    { depth: grid(1.04, 1.16, 0.04), width: grid(1.04, 1.16, 0.04), resolution: [224, 240, 256] },
    { depth: grid(1.2, 1.36, 0.04), width: grid(1.2, 1.36, 0.04), resolution: [272, 288, 304] },
    { depth: grid(1.4, 1.64, 0.04), width: grid(1.4, 1.64, 0.04), resolution: [320, 336, 354] },
  ],
  flops: { target: 306e6, tolerance: 25e6, scaleTolerance: 50e6 },
};

/**
 * `cifar` — 32 px RGB, 10 classes (CIFAR-10; set `classes` to 100 for CIFAR-100).
 * - Stem stride 1 and three stride-2 stages (32 → 4 px): as in CIFAR variants of MobileNetV2, downsampling
 *   a 32 px image as early as the ImageNet stem does leaves too little spatial detail.
 * - Six stages of max depth ≤ 3, t = 4, head 640: a base costs 21–67M MACs (median 42M), about 1/8 of the
 *   paper space, so a supernet trains in hours on one GPU; target 40M ± 8M (20%) admits ~60% of random bases.
 * - Depth grids step by 0.25, not 0.04: with ≤ 3 layers per stage, up(n·d) changes only in whole layers,
 *   so finer steps would name identical networks. Grids rise across levels so the chain's monotone
 *   transition always has room. Measured (400 random bases): median MACs ratio 2.2 / 4.5 / 9.3 at L1/L2/L3,
 *   8–19 feasible triples per level and base with scaleTolerance 8M·2^s.
 */
const cifar: SearchSpaceInput = {
  name: 'cifar',
  inputChannels: 3,
  classes: 10,
  resolution: 32,
  stem: { kernel: 3, stride: 1, out: 16 },
  stages: stages([[16, 1, 1, 1], [24, 1, 4, 3], [32, 2, 4, 3], [64, 2, 4, 3], [96, 1, 4, 3], [160, 2, 4, 3]], [3, 5, 7]),
  head: { out: 640 },
  seReduction: 4,
  levels: [
    { depth: [1], width: [1], resolution: [32] },
    { depth: [1, 1.25, 1.5], width: [1, 1.1, 1.2], resolution: [32, 36, 40] },
    { depth: [1.25, 1.5, 1.75], width: [1.2, 1.3, 1.4], resolution: [36, 40, 44] },
    { depth: [1.5, 1.75, 2], width: [1.4, 1.5, 1.6], resolution: [44, 48, 52] },
  ],
  flops: { target: 40e6, tolerance: 8e6, scaleTolerance: 8e6 },
};

/**
 * `tiny` — 28×28 greyscale, 10 classes (Fashion-MNIST), for tests and the demo on 2 CPU cores (tfjs wasm).
 * - Stem stride 1 and three stride-2 stages (28 → 14 → 7 → 4 px); four stages, max depths 1/2/3/2,
 *   t = 3, kernels {3, 5} only (a 7×7 depthwise on 7×7 and 4×4 maps adds cost, not receptive field).
 * - A base costs 2.5–5.6M MACs (median 4M); target 4M ± 1M admits ~80% of random bases, so rejection
 *   sampling of feasible bases is cheap.
 * - Only levels 0–2: the top level costs ~4× the base (~16M MACs), which keeps a training step fast; the
 *   extrapolation stage still has three points to fit. Measured: median MACs ratio 2.1 / 4.4 at L1/L2,
 *   11–22 feasible triples per level and base with scaleTolerance 1M·2^s.
 */
const tiny: SearchSpaceInput = {
  name: 'tiny',
  inputChannels: 1,
  classes: 10,
  resolution: 28,
  stem: { kernel: 3, stride: 1, out: 16 },
  stages: stages([[16, 1, 1, 1], [24, 2, 3, 2], [40, 2, 3, 3], [64, 2, 3, 2]], [3, 5]),
  head: { out: 256 },
  seReduction: 4,
  levels: [
    { depth: [1], width: [1], resolution: [28] },
    { depth: [1, 1.25, 1.5], width: [1, 1.1, 1.2], resolution: [28, 32, 36] },
    { depth: [1.25, 1.5, 1.75], width: [1.2, 1.3, 1.4], resolution: [32, 36, 40] },
  ],
  flops: { target: 4e6, tolerance: 1e6, scaleTolerance: 1e6 },
};

const RAW = { paper, cifar, tiny } as const;

/** Names of the built-in presets. */
export const PRESET_NAMES = Object.keys(RAW) as readonly PresetName[];
export type PresetName = keyof typeof RAW;

const cache = new Map<string, SearchSpace>();

/** True when `name` is a built-in preset. */
export function isPresetName(name: string): name is PresetName {
  return Object.prototype.hasOwnProperty.call(RAW, name);
}

/**
 * A validated copy of the named preset (callers may modify it freely). Throws a RangeError listing the
 * valid names for an unknown name.
 */
export function getPreset(name: string): SearchSpace {
  if (!isPresetName(name)) {
    throw new RangeError(`unknown preset "${name}" (available: ${PRESET_NAMES.join(', ')})`);
  }
  let space = cache.get(name);
  if (!space) {
    space = parseSearchSpace(RAW[name]);
    cache.set(name, space);
  }
  return JSON.parse(JSON.stringify(space)) as SearchSpace;
}
