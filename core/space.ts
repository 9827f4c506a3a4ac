/**
 * The search space (DESIGN §3.1): a stem, an ordered list of MBConv stages, a head, and the scaling
 * levels of the super-supernet. One zod schema serves parsing, the TypeScript types and JSON Schema.
 */
import { z } from 'zod';
import { InvalidInputError, issuesFromZod } from './errors';

/**
 * Upper bounds that keep MACs/params arithmetic finite and the super-supernet allocatable (a space or arch
 * beyond them is a typo, not a network): channels, depth and pixels per dimension, multipliers.
 */
export const SPACE_MAX = { channels: 100_000, depth: 256, kernel: 31, resolution: 4096, multiplier: 64, levels: 32, stages: 64 } as const;

const oddKernel = z.int().positive().max(SPACE_MAX.kernel).refine((k) => k % 2 === 1, { message: 'kernel sizes must be odd (3, 5, 7, …)' });
const stride = z.union([z.literal(1), z.literal(2)], { message: 'stride must be 1 or 2' });

/** One stage of MBConv blocks. The first layer of the stage carries the stride and the channel change. */
export const StageSchema = z.object({
  /** Output channels of every block in the stage (before width scaling). */
  out: z.int().positive().max(SPACE_MAX.channels),
  /** Stride of the stage's first layer; later layers use stride 1. */
  stride,
  /** Expansion ratio t of the inverted bottleneck; t = 1 means no 1×1 expand conv. */
  expansion: z.int().min(1).max(SPACE_MAX.multiplier),
  /** Maximal depth of a *base* network in this stage (scaled networks may be deeper). */
  maxDepth: z.int().min(1).max(SPACE_MAX.depth),
  /** Allowed depthwise kernel sizes for every layer of the stage. */
  kernels: z.array(oddKernel).min(1),
}).strict();

/** A scaling level s: the grids its depth / width multipliers and its resolutions are drawn from. */
export const LevelSchema = z.object({
  depth: z.array(z.number().positive().max(SPACE_MAX.multiplier)).min(1),
  width: z.array(z.number().positive().max(SPACE_MAX.multiplier)).min(1),
  resolution: z.array(z.int().positive().max(SPACE_MAX.resolution)).min(1),
}).strict();

/**
 * The FLOPs constraint, in MACs (multiply-accumulates, as counted by `countNetwork`; the paper and
 * its code say "FLOPs" for the same number). A base b is admissible when |MACs(b) − target| ≤ tolerance;
 * b scaled to level s is feasible when |MACs(b scaled to s) − 2^s·MACs(b)| ≤ scaleTolerance·2^s.
 * The reference code uses 25M for the base and 50M for the scaled check; both are absolute.
 */
export const FlopsConstraintSchema = z.object({
  target: z.number().positive(),
  tolerance: z.number().nonnegative(),
  scaleTolerance: z.number().nonnegative(),
}).strict();

/** A complete search space. See `presets.ts` for examples. */
export const SearchSpaceSchema = z.object({
  name: z.string().min(1),
  /** Channels of the input image (3 for RGB, 1 for greyscale). */
  inputChannels: z.int().positive().max(64),
  /** Number of output classes of the FC layer. */
  classes: z.int().min(2).max(SPACE_MAX.channels),
  /** Base (level 0) input resolution in pixels. */
  resolution: z.int().positive().max(SPACE_MAX.resolution),
  stem: z.object({ kernel: oddKernel, stride, out: z.int().positive().max(SPACE_MAX.channels) }).strict(),
  stages: z.array(StageSchema).min(1).max(SPACE_MAX.stages),
  /** 1×1 conv before pooling; its output channels are never width-scaled. */
  head: z.object({ out: z.int().positive().max(SPACE_MAX.channels) }).strict(),
  /** Squeeze-excite reduction: the SE hidden width is ⌊hidden / seReduction⌋. Default 4. */
  seReduction: z.int().positive().default(4),
  /** levels[0] is the base level and must be depth [1], width [1], resolution [base resolution]. */
  levels: z.array(LevelSchema).min(1).max(SPACE_MAX.levels),
  flops: FlopsConstraintSchema,
}).strict().superRefine((space, ctx) => {
  const l0 = space.levels[0];
  if (l0 && !(l0.depth.length === 1 && l0.depth[0] === 1 && l0.width.length === 1 && l0.width[0] === 1 &&
      l0.resolution.length === 1 && l0.resolution[0] === space.resolution)) {
    ctx.addIssue({
      code: 'custom', path: ['levels', 0],
      message: `level 0 is the base network: use depth [1], width [1], resolution [${space.resolution}]`,
    });
  }
  space.levels.forEach((level, s) => {
    for (const dim of ['depth', 'width', 'resolution'] as const) {
      const grid = level[dim] as number[];
      if (new Set(grid).size !== grid.length) {
        ctx.addIssue({ code: 'custom', path: ['levels', s, dim], message: `grid has duplicate values: ${grid.join(', ')}` });
      }
    }
  });
  space.stages.forEach((stage, i) => {
    if (new Set(stage.kernels).size !== stage.kernels.length) {
      ctx.addIssue({ code: 'custom', path: ['stages', i, 'kernels'], message: 'kernel list has duplicates' });
    }
  });
});

export type Stage = z.infer<typeof StageSchema>;
export type Level = z.infer<typeof LevelSchema>;
export type FlopsConstraint = z.infer<typeof FlopsConstraintSchema>;
/** A validated search space (defaults applied). */
export type SearchSpace = z.output<typeof SearchSpaceSchema>;
/** A search space as written by a user (defaults optional). */
export type SearchSpaceInput = z.input<typeof SearchSpaceSchema>;

/** Parses and validates a search space; throws {@link InvalidInputError} naming every bad path. */
export function parseSearchSpace(value: unknown): SearchSpace {
  const res = SearchSpaceSchema.safeParse(value);
  if (!res.success) throw new InvalidInputError('search space', issuesFromZod(res.error));
  return res.data;
}

/** Index of the highest scaling level (L): levels are 0..L. */
export function maxLevel(space: SearchSpace): number {
  return space.levels.length - 1;
}

/** The largest depth multiplier over all levels (sizes the super-supernet's layer slots). */
export function maxDepthMultiplier(space: SearchSpace): number {
  return Math.max(...space.levels.flatMap((l) => l.depth));
}

/** The largest width multiplier over all levels (sizes the super-supernet's shared tensors). */
export function maxWidthMultiplier(space: SearchSpace): number {
  return Math.max(...space.levels.flatMap((l) => l.width));
}

/** Number of (depth, width, resolution) triples in level s's grid. */
export function levelGridSize(space: SearchSpace, level: number): number {
  const l = space.levels[level];
  if (!l) throw new RangeError(`level ${level} does not exist (levels 0..${maxLevel(space)})`);
  return l.depth.length * l.width.length * l.resolution.length;
}
