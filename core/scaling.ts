/**
 * Scaling rules (DESIGN §3.2): from a base + (d, w, r) to a concrete, fully resolved network that the
 * engine (nn/) builds layer by layer and that `countNetwork` counts. Also the super-supernet's layout
 * (§3.3): how many layer slots each stage holds and the largest channel counts each slot must allocate.
 */
import type { Architecture } from './arch';
import { maxDepthMultiplier, maxWidthMultiplier, type SearchSpace } from './space';

/** ceil with a 1e-9 tolerance, so 1.16 · 25 = 29.000000000000004 scales to 29, not 30. */
export function up(x: number): number {
  return Math.ceil(x - 1e-9);
}

/** Spatial output size of a conv with 'same'-style padding ⌊k/2⌋: ⌊(in + 2⌊k/2⌋ − k)/s⌋ + 1. */
export function convOutputSize(inputSize: number, kernel: number, stride: number): number {
  return Math.floor((inputSize + 2 * Math.floor(kernel / 2) - kernel) / stride) + 1;
}

/** Layers of a stage with `n` base layers under depth multiplier d: up(n·d). */
export function scaledDepth(n: number, d: number): number {
  return up(n * d);
}

/** One MBConv block of a scaled network. Sizes are square (H = W). */
export interface BlockSpec {
  /** Stage index (0-based) and layer index within the stage. */
  readonly stage: number;
  readonly index: number;
  readonly kernel: number;
  readonly stride: number;
  readonly cin: number;
  readonly cout: number;
  /** Width of the expanded representation: up(c_in·t·w) with the *unscaled* c_in. */
  readonly hidden: number;
  /** True when t ≠ 1: the block starts with a 1×1 expand conv (cin → hidden). */
  readonly expand: boolean;
  /** Squeeze-excite bottleneck width ⌊hidden / seReduction⌋. */
  readonly seHidden: number;
  /** Identity shortcut: stride 1 and cin = cout. */
  readonly residual: boolean;
  readonly inputSize: number;
  readonly outputSize: number;
}

/** A fully resolved network: everything needed to build or count it, nothing left to the builder. */
export interface ScaledNetwork {
  readonly input: { readonly channels: number; readonly resolution: number };
  readonly stem: {
    readonly kernel: number; readonly stride: number; readonly cin: number; readonly cout: number;
    readonly inputSize: number; readonly outputSize: number;
  };
  readonly blocks: readonly BlockSpec[];
  /** 1×1 conv + BN + h-swish; `size` is its (unchanged) spatial size. Followed by global average pooling. */
  readonly head: { readonly cin: number; readonly cout: number; readonly size: number };
  readonly fc: { readonly cin: number; readonly classes: number };
  /** Layers per stage after depth scaling. */
  readonly depths: readonly number[];
  /** The multipliers this network was built with. */
  readonly multipliers: { readonly depth: number; readonly width: number; readonly resolution: number };
}

/**
 * Scales `arch` within `space`. The base is assumed valid (see `validateArchitecture`); this function
 * does not check kernels against the space, so it also serves extrapolated and off-grid networks.
 * - depth: a stage with n base layers gets up(n·d); the extra layers repeat the stage's last kernel;
 * - width: stem out and block in/out become up(c·w); hidden = up(c_in·t·w) with the unscaled c_in;
 *   the head's output and the FC are unchanged.
 */
export function scaleNetwork(space: SearchSpace, arch: Architecture): ScaledNetwork {
  const w = arch.width;
  let size = arch.resolution;
  const stemOut = convOutputSize(size, space.stem.kernel, space.stem.stride);
  const stem = {
    kernel: space.stem.kernel, stride: space.stem.stride, cin: space.inputChannels,
    cout: up(space.stem.out * w), inputSize: size, outputSize: stemOut,
  };
  size = stemOut;
  let cinBase = space.stem.out;
  let cin = stem.cout;
  const blocks: BlockSpec[] = [];
  const depths: number[] = [];
  space.stages.forEach((stage, si) => {
    const kernels = arch.stages[si];
    if (!kernels || kernels.length === 0) throw new RangeError(`stages[${si}]: missing or empty kernel list`);
    const n = scaledDepth(kernels.length, arch.depth);
    depths.push(n);
    const last = kernels[kernels.length - 1] as number;
    const cout = up(stage.out * w);
    for (let j = 0; j < n; j++) {
      const kernel = j < kernels.length ? (kernels[j] as number) : last;
      const s = j === 0 ? stage.stride : 1;
      const hidden = up(cinBase * stage.expansion * w);
      const outputSize = convOutputSize(size, kernel, s);
      blocks.push({
        stage: si, index: j, kernel, stride: s, cin, cout, hidden,
        expand: stage.expansion !== 1,
        seHidden: Math.floor(hidden / space.seReduction),
        residual: s === 1 && cin === cout,
        inputSize: size, outputSize,
      });
      size = outputSize;
      cin = cout;
      cinBase = stage.out;
    }
  });
  return {
    input: { channels: space.inputChannels, resolution: arch.resolution },
    stem,
    blocks,
    head: { cin, cout: space.head.out, size },
    fc: { cin: space.head.out, classes: space.classes },
    depths,
    multipliers: { depth: arch.depth, width: arch.width, resolution: arch.resolution },
  };
}

/**
 * What makes two architectures the same network: every resolved layer, the input and the head, without the
 * multipliers that led there (different (d, w, r) can round to the very same layers, e.g. a compound
 * baseline landing on its searched partner). Equal keys build identical networks, so the same recipe and
 * seed train them to identical weights.
 */
export function networkKey(space: SearchSpace, arch: Architecture): string {
  const { multipliers: _multipliers, ...layers } = scaleNetwork(space, arch);
  return JSON.stringify(layers);
}

/** One layer slot of the super-supernet: the largest shapes any sub-network asks of it. */
export interface SlotSpec {
  readonly stage: number;
  readonly index: number;
  readonly stride: number;
  /** Kernel sizes that need a weight set in this slot (single-path one-shot: one set per kernel). */
  readonly kernels: readonly number[];
  readonly expand: boolean;
  readonly maxCin: number;
  readonly maxCout: number;
  readonly maxHidden: number;
  readonly maxSeHidden: number;
}

/** Layout of the shared-weight super-supernet (DESIGN §3.3). */
export interface SuperSupernetSpec {
  readonly inputChannels: number;
  readonly stem: { readonly kernel: number; readonly stride: number; readonly cin: number; readonly maxCout: number };
  /** Per stage, its slots in order; slot count = up(maxDepth · d_max). */
  readonly stages: readonly (readonly SlotSpec[])[];
  readonly head: { readonly maxCin: number; readonly cout: number };
  readonly fc: { readonly cin: number; readonly classes: number };
  readonly maxDepthMultiplier: number;
  readonly maxWidthMultiplier: number;
}

/**
 * The super-supernet layout: every tensor sized for the largest width over all levels, so a sub-network
 * uses the first channels (left slicing). Because `up` is monotone, the maxima are reached at w_max;
 * they are computed over every grid width anyway, so a grid that is not sorted cannot break this.
 */
export function superSupernetSpec(space: SearchSpace): SuperSupernetSpec {
  const dMax = maxDepthMultiplier(space);
  const wMax = maxWidthMultiplier(space);
  const widths = [...new Set(space.levels.flatMap((l) => l.width))];
  const maxOver = (f: (w: number) => number): number => Math.max(...widths.map(f));
  let cinBase = space.stem.out;
  const stages = space.stages.map((stage, si) => {
    const slots: SlotSpec[] = [];
    const n = up(stage.maxDepth * dMax);
    for (let j = 0; j < n; j++) {
      const cb = cinBase;
      slots.push({
        stage: si, index: j, stride: j === 0 ? stage.stride : 1,
        kernels: stage.kernels.slice(),
        expand: stage.expansion !== 1,
        maxCin: maxOver((w) => up(cb * w)),
        maxCout: maxOver((w) => up(stage.out * w)),
        maxHidden: maxOver((w) => up(cb * stage.expansion * w)),
        maxSeHidden: maxOver((w) => Math.floor(up(cb * stage.expansion * w) / space.seReduction)),
      });
      cinBase = stage.out;
    }
    return slots;
  });
  const lastOut = space.stages[space.stages.length - 1]?.out ?? space.stem.out;
  return {
    inputChannels: space.inputChannels,
    stem: { kernel: space.stem.kernel, stride: space.stem.stride, cin: space.inputChannels, maxCout: maxOver((w) => up(space.stem.out * w)) },
    stages,
    head: { maxCin: maxOver((w) => up(lastOut * w)), cout: space.head.out },
    fc: { cin: space.head.out, classes: space.classes },
    maxDepthMultiplier: dMax,
    maxWidthMultiplier: wMax,
  };
}
