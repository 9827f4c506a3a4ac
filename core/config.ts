/**
 * The run config: one zod schema for parsing, types and the JSON Schema that editors use
 * (`scalenet schema`). Every field except `name` has a default, so the smallest config is
 * `{ name: "demo" }`. File formats are the CLI's business: it turns YAML or JSON into an object and
 * calls {@link parseConfigObject}; core stays free of parsers and I/O.
 */
import { z } from 'zod';
import { InvalidInputError, issuesFromZod, type InputIssue } from './errors';
import { canonicalJson, sha256Hex } from './hash';
import { getPreset, isPresetName, PRESET_NAMES } from './presets';
import { FlopsConstraintSchema, LevelSchema, parseSearchSpace, SearchSpaceSchema, type SearchSpace } from './space';

const path = z.string().min(1);
const positiveInt = z.int().positive();

/**
 * Upper bounds of the sizes a config may ask for: far above any run these 2-core-to-GPU workers can do, low
 * enough that a typo (`batchSize: 1e9`) is refused at the boundary instead of exhausting a worker's memory.
 */
export const MAX = {
  /** Images in a synthetic split, minival, test images used. */
  images: 1_000_000,
  /** Image side in pixels (datasets and resolutions). */
  resolution: 4096,
  channels: 64,
  classes: 100_000,
  batchSize: 8192,
  epochs: 100_000,
  stepsPerEpoch: 10_000_000,
  /** Search sizes: bases, rounds, population, generations, elites. */
  searchSize: 100_000,
  /** Recalibration batches per evaluation. */
  batches: 10_000,
  /** Extra extrapolated levels (each doubles the MACs: 2^20 × S0 is far beyond any model). */
  extraLevels: 20,
  evaluationConcurrency: 1024,
  /** Seconds (a week). */
  seconds: 7 * 24 * 3600,
} as const;

/** Augmentation switches; omitted fields take the per-kind defaults of data/'s `augmentationFor`. */
export const AugmentationSchema = z.object({
  /** Random crop after zero padding by `cropPadding` pixels on each side. */
  crop: z.boolean().optional(),
  /** Padding of the random crop; default ⌈size/8⌉ (4 px for 28–32 px images, as in the CIFAR recipe). */
  cropPadding: z.int().nonnegative().max(MAX.resolution).optional(),
  /** Random horizontal flip. */
  flip: z.boolean().optional(),
}).strict();

const unitInterval = z.number().gt(0).lte(1);

/**
 * A folder of images per class, on local disk or in the run's object store (data/image-folder.ts). It is
 * read once by prepare-data, packed as encoded files into shards, and streamed from there (issue 13).
 */
export const ImageFolderDatasetSchema = z.object({
  kind: z.literal('image-folder'),
  /** Local directory or `s3://bucket/prefix`; each sub-folder is a class, class ids follow sorted names. */
  train: path,
  /** Same layout and class names as `train`. */
  test: path,
  /** Optional minival source; default: `search.minivalSize` images held out of `train`, stratified and seeded. */
  val: path.optional(),
  /** Channels fed to the network: 1 (grayscale) or 3 (sRGB); images are converted. Default 3. */
  channels: z.union([z.literal(1), z.literal(3)]).default(3),
  /** `fail` (default): a bad file fails prepare-data naming it; `skip`: it is left out and counted. */
  onBadImage: z.enum(['fail', 'skip']).default('fail'),
  /** Decoded-pixel cap per image (width × height), against decompression bombs. Default 40 M. */
  maxPixels: positiveInt.default(40_000_000),
  /** Training random-resized-crop: area fraction and aspect-ratio ranges (ImageNet defaults). */
  randomResizedCrop: z.object({
    scale: z.tuple([unitInterval, unitInterval]).default([0.08, 1]),
    ratio: z.tuple([z.number().positive(), z.number().positive()]).default([3 / 4, 4 / 3]),
  }).strict().prefault({}),
  /** Random horizontal flip in training. Default true. */
  flip: z.boolean().default(true),
  /** Encoded images per shard in the object store. Default 1000. */
  imagesPerShard: positiveInt.default(1000),
}).strict();
export type ImageFolderDataset = z.output<typeof ImageFolderDatasetSchema>;

/**
 * Where the images come from. `kind` selects the reader in data/. This is the only dataset schema: data/
 * parses with it too (two schemas once disagreed about `synthetic` and such runs could never start).
 */
export const DatasetSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('fashion-mnist'),
    /** Folder with the four IDX files; default: the Debian `dataset-fashion-mnist` location, chosen by data/. */
    dir: path.optional(),
    augment: AugmentationSchema.optional(),
  }).strict(),
  z.object({
    kind: z.literal('idx'),
    train: z.object({ images: path, labels: path }).strict(),
    test: z.object({ images: path, labels: path }).strict(),
    classes: z.int().min(2).max(MAX.classes).default(10),
    augment: AugmentationSchema.optional(),
  }).strict(),
  z.object({ kind: z.literal('cifar10'), dir: path, augment: AugmentationSchema.optional() }).strict(),
  z.object({
    kind: z.literal('cifar100'),
    dir: path,
    labels: z.enum(['fine', 'coarse']).default('fine'),
    augment: AugmentationSchema.optional(),
  }).strict(),
  z.object({
    kind: z.literal('synthetic'),
    classes: z.int().min(2).max(MAX.classes).default(10),
    channels: positiveInt.max(MAX.channels).default(1),
    /** Height and width of the (square) images in pixels. */
    resolution: positiveInt.max(MAX.resolution).default(28),
    trainSize: positiveInt.max(MAX.images).default(2048),
    testSize: positiveInt.max(MAX.images).default(512),
    /** Noise amplitude in grey levels (0..255). */
    noise: z.number().nonnegative().max(255).default(48),
    /** Seed of the generator that draws the synthetic images (independent of the run seed). */
    seed: z.int().default(0),
    augment: AugmentationSchema.optional(),
  }).strict(),
  ImageFolderDatasetSchema,
], { error: `dataset.kind must be one of: fashion-mnist, idx, cifar10, cifar100, synthetic, image-folder` });

/** Space overrides applied on top of a preset (each optional). */
const SpaceOverridesSchema = z.object({
  classes: z.int().min(2).max(MAX.classes).optional(),
  inputChannels: positiveInt.max(MAX.channels).optional(),
  flops: FlopsConstraintSchema.partial().strict().optional(),
  levels: z.array(LevelSchema).min(1).optional(),
}).strict();

/**
 * The search space: a preset name (`"tiny"`), a preset with overrides (`{preset, overrides}`), or a
 * whole inline space (`{inline: {...}}`).
 */
export const SpaceRefSchema = z.union([
  z.string().min(1),
  z.object({ preset: z.string().min(1), overrides: SpaceOverridesSchema.optional() }).strict(),
  z.object({ inline: SearchSpaceSchema }).strict(),
]);

const LevelWeightsSchema = z.union([z.enum(['gridSize', 'triples', 'uniform']), z.array(z.number().nonnegative()).min(1)]);

/** Supernet training (DESIGN §3.5). */
export const SupernetSchema = z.object({
  /**
   * Reuse the trained super-supernet and prepared data of this earlier, completed run instead of training
   * one (`scalenet run --supernet-from RUN`). Everything that decides the supernet's weights must match that
   * run's config (core/lineage.ts); search, extrapolation, retraining and calibration may differ.
   */
  from: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, { message: 'supernet.from must be a run id (letters, digits, "_" or "-")' }).optional(),
  epochs: positiveInt.max(MAX.epochs).default(10),
  /** Steps per epoch; null = one pass over the training split (minus minival). */
  stepsPerEpoch: positiveInt.max(MAX.stepsPerEpoch).nullable().default(null),
  batchSize: positiveInt.max(MAX.batchSize).default(64),
  /** Peak learning rate after warm-up (SGD, Nesterov). */
  lr: z.number().positive().default(0.05),
  warmupEpochs: z.number().nonnegative().max(MAX.epochs).default(1),
  momentum: z.number().min(0).max(1).default(0.9),
  nesterov: z.boolean().default(true),
  /** On conv/FC weights only; BN parameters and biases get none. */
  weightDecay: z.number().nonnegative().default(4e-5),
  labelSmoothing: z.number().min(0).max(1).default(0.1),
  /** Crop/flip augmentation of training batches (the dataset's per-kind defaults); false = plain batches. */
  augment: z.boolean().default(true),
  checkpoint: z.object({
    everySteps: positiveInt.max(MAX.stepsPerEpoch).default(200),
    everySeconds: z.number().positive().max(MAX.seconds).default(300),
  }).strict().prefault({}),
  /** `hierarchical` (ScaleNet) or `uniform` (ablation: multipliers from the union of all grids). */
  sampling: z.enum(['hierarchical', 'uniform']).default('hierarchical'),
  levelWeights: LevelWeightsSchema.default('gridSize'),
}).strict();

/** Markov-chain evolutionary search (DESIGN §3.6–3.7). */
export const SearchConfigSchema = z.object({
  /** N: random admissible bases averaged when first scoring each level's triples. */
  initBases: positiveInt.max(MAX.searchSize).default(4),
  /** R: rounds of (evolve base, re-choose strategies). */
  rounds: positiveInt.max(MAX.searchSize).default(2),
  /** P: population size of the base GA. */
  population: z.int().min(2).max(MAX.searchSize).default(16),
  /** G: generations per round. */
  generations: positiveInt.max(MAX.searchSize).default(6),
  tournamentSize: z.int().min(1).default(3),
  /**
   * Best bases of earlier rounds seeded into each new round's initial population (elitism).
   * 0 reproduces the reference code, which restarts every round from random bases.
   */
  elites: z.int().nonnegative().max(MAX.searchSize).default(4),
  /** Probability that a child gets a mutation (one kernel or one stage depth changes). */
  mutationProb: z.number().min(0).max(1).default(0.5),
  /** Probability that a child is bred by crossover (stage-wise exchange of kernel lists) rather than copied. */
  crossoverProb: z.number().min(0).max(1).default(0.7),
  /** Fitness weights of levels 1..L (the base fitness is their weighted mean); 'uniform' = equal. */
  fitnessWeights: z.union([z.literal('uniform'), z.array(z.number().nonnegative()).min(1)]).default('uniform'),
  evalBatchSize: positiveInt.max(MAX.batchSize).default(256),
  /** Images held out of the training split to rank candidates (never the test set). */
  minivalSize: positiveInt.max(MAX.images).default(1000),
  /** Training batches used to recalibrate BN statistics before each evaluation (0 = batch statistics). */
  bnRecalibrationBatches: z.int().nonnegative().max(MAX.batches).default(8),
  /**
   * Images per recalibration batch. Population statistics from a few dozen images are noisy enough to
   * reorder candidates; ~500 images (8 × 64) ranked the demo's sub-networks stably (bench/README.md).
   */
  bnRecalibrationBatchSize: positiveInt.max(MAX.batchSize).default(64),
  /** Overrides the space's scaled-FLOPs tolerance (MACs, multiplied by 2^s); default: the space's. */
  scaleTolerance: z.number().nonnegative().optional(),
}).strict();

/** Extrapolation beyond the searched levels (DESIGN §3.8). */
export const ExtrapolationSchema = z.object({
  /** K: number of levels to add above the highest searched level. */
  extraLevels: z.int().nonnegative().max(MAX.extraLevels).default(2),
  /** Resolutions are rounded to a multiple of this many pixels. */
  resolutionMultiple: positiveInt.max(256).default(8),
}).strict();

/** Retraining of the family from scratch (DESIGN §3.9). */
export const RetrainingSchema = z.object({
  epochs: positiveInt.max(MAX.epochs).default(20),
  /** Steps per epoch; null = one pass over the training split. */
  stepsPerEpoch: positiveInt.max(MAX.stepsPerEpoch).nullable().default(null),
  /** Test images used to report accuracy (the first N of the test set); null = all. */
  testImages: positiveInt.max(MAX.images).nullable().default(null),
  /** Checkpoint cadence while retraining (whichever comes first). */
  checkpoint: z.object({
    everySteps: positiveInt.max(MAX.stepsPerEpoch).default(200),
    everySeconds: z.number().positive().max(MAX.seconds).default(300),
  }).strict().prefault({}),
  batchSize: positiveInt.max(MAX.batchSize).default(64),
  lr: z.number().positive().default(0.05),
  warmupEpochs: z.number().nonnegative().max(MAX.epochs).default(1),
  /** Crop/flip augmentation of training batches (the dataset's per-kind defaults); false = plain batches. */
  augment: z.boolean().default(true),
  /**
   * Also retrain the EfficientNet compound-scaling baseline B_s of the same S0 for every retrained S_s
   * (s ≥ 1), each solved for the MACs of its S_s within 1 %.
   */
  baselines: z.boolean().default(true),
  /** Compound-scaling coefficients of the baselines: depth α^φ, width β^φ, resolution γ^φ (EfficientNet's). */
  compound: z.object({
    alpha: z.number().min(1).max(4).default(1.2),
    beta: z.number().min(1).max(4).default(1.1),
    gamma: z.number().min(1).max(4).default(1.15),
  }).strict().prefault({}),
  /**
   * Independent retrainings of each model, with seeds seed, seed+1, …: results give the mean and the
   * half-range, so a difference between S_s and B_s can be told from seed noise.
   */
  seeds: positiveInt.max(16).default(1),
  /** Which family members to retrain (level indices, including extrapolated ones); null = all. */
  levels: z.array(z.int().nonnegative().max(64)).nullable().default(null),
}).strict();

/** Default retry budgets per activity kind (also for runs recorded before `resources.retries` existed). */
export const RETRY_DEFAULTS = {
  training: { maximumAttempts: 20, scheduleToCloseSeconds: 7 * 24 * 3600 },
  evaluation: { maximumAttempts: 20, scheduleToCloseSeconds: 24 * 3600 },
  light: { maximumAttempts: 20, scheduleToCloseSeconds: 6 * 3600 },
} as const;

/** A retry budget: attempts and a deadline for all of them together. */
function RetryBudgetSchema({ maximumAttempts: attempts, scheduleToCloseSeconds: seconds }: { maximumAttempts: number; scheduleToCloseSeconds: number }) {
  return z.object({
    maximumAttempts: positiveInt.max(1000).default(attempts),
    scheduleToCloseSeconds: z.number().min(60).max(30 * 24 * 3600).default(seconds),
  }).strict().prefault({});
}

/**
 * Supernet trust score: retrain K sub-networks sampled across the levels and compare their retrained
 * accuracy with the accuracy the shared weights gave them (Kendall's τ, Spearman's ρ). Off when K = 0.
 */
export const CalibrationSchema = z.object({
  /** K: sub-networks to sample and retrain (0 = no calibration stage). */
  subnets: z.int().min(0).max(64).default(0),
  /** Training steps of each calibration retraining (recipe otherwise as in `retraining`). */
  steps: positiveInt.max(1_000_000).default(300),
  /** Test images scored per calibration model; null = the whole test split. */
  testImages: positiveInt.nullable().default(null),
}).strict();

/** Where the work runs. */
export const ResourcesSchema = z.object({
  /** Default: everything on `scalenet-cpu` (works anywhere); point `compute` at `scalenet-gpu` on GPU workers. */
  taskQueues: z.object({
    /** Tensor work: supernet training, evaluation, retraining. */
    compute: z.string().min(1).default('scalenet-cpu'),
    /** Light activities: data preparation, reports, manifests. */
    light: z.string().min(1).default('scalenet-cpu'),
    /**
     * Supernet training epochs; absent = `compute`. A queue of its own lets that one long sequential activity
     * run on a worker of its own (a GPU node, or a process using every core) while evaluations and retrainings
     * run elsewhere (`scalenet worker --queue NAME --threads N`).
     */
    supernet: z.string().min(1).optional(),
  }).strict().prefault({}),
  /**
   * Chunks of candidates evaluated concurrently during the search (one per worker process that can take
   * one), and the most models retrained at once (largest first). `auto` (default): the submitting machine's
   * core count, resolved by the CLI when the run starts.
   */
  evaluationConcurrency: z.union([positiveInt.max(MAX.evaluationConcurrency), z.literal('auto')]).default('auto'),
  /**
   * Retry budget per activity kind for transient failures (input, format, integrity and invariant errors never
   * retry): at most `maximumAttempts` attempts, and all of them within `scheduleToCloseSeconds` of the first.
   * When the budget is spent the run fails with the last error (`scalenet status`, `scalenet history`).
   */
  retries: z.object({
    /** One supernet epoch or one retraining (hours on a GPU). */
    training: RetryBudgetSchema(RETRY_DEFAULTS.training),
    /** One chunk of candidate evaluations. */
    evaluation: RetryBudgetSchema(RETRY_DEFAULTS.evaluation),
    /** Data preparation, records, reports. */
    light: RetryBudgetSchema(RETRY_DEFAULTS.light),
  }).strict().prefault({}),
  /**
   * Seconds a compute activity may go without finishing a step (a training step, an evaluated candidate, a
   * store read) before it stops heartbeating, so Temporal hands its work to another attempt.
   */
  noProgressSeconds: z.number().positive().max(MAX.seconds).default(900),
  /** Intermediate checkpoints each training keeps (the newest; an epoch's or a model's final one is always kept). */
  checkpointsKept: positiveInt.max(1000).default(3),
}).strict();

/** The whole run config. */
export const RunConfigSchema = z.object({
  /** Run name: letters, digits, '.', '_' and '-' (it becomes part of workflow IDs and object keys). */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    message: 'name must be 1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
  }),
  seed: z.int().nonnegative().default(0),
  dataset: DatasetSchema.default({ kind: 'fashion-mnist' }),
  space: SpaceRefSchema.default('tiny'),
  supernet: SupernetSchema.prefault({}),
  search: SearchConfigSchema.prefault({}),
  extrapolation: ExtrapolationSchema.prefault({}),
  retraining: RetrainingSchema.prefault({}),
  calibration: CalibrationSchema.prefault({}),
  resources: ResourcesSchema.prefault({}),
}).strict();

export type RunConfig = z.output<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;
export type DatasetConfig = z.output<typeof DatasetSchema>;
export type SearchConfig = z.output<typeof SearchConfigSchema>;

/** Classes and input channels a dataset fixes, where it does. */
function datasetShape(d: DatasetConfig): { classes?: number; channels?: number } {
  switch (d.kind) {
    case 'fashion-mnist': return { classes: 10, channels: 1 };
    case 'cifar10': return { classes: 10, channels: 3 };
    case 'cifar100': return { classes: 100, channels: 3 };
    case 'synthetic': return { classes: d.classes, channels: d.channels };
    case 'idx': return { channels: 1 };
    // Classes are the folder names, known only when prepare-data lists them; it checks them against the space.
    case 'image-folder': return { channels: d.channels };
  }
}

/** Builds the space of a config and the issues found on the way (paths relative to the config). */
function buildSpace(config: RunConfig): { space?: SearchSpace; issues: InputIssue[] } {
  const ref = config.space;
  const issues: InputIssue[] = [];
  const presetName = typeof ref === 'string' ? ref : 'preset' in ref ? ref.preset : null;
  let raw: unknown;
  let explicit: { classes?: number; inputChannels?: number } = {};
  if (presetName !== null) {
    if (!isPresetName(presetName)) {
      const at = typeof ref === 'string' ? 'space' : 'space.preset';
      return { issues: [{ path: at, message: `unknown preset "${presetName}" (available: ${PRESET_NAMES.join(', ')}); or give an inline space as {inline: {...}}` }] };
    }
    const base = getPreset(presetName);
    const o = typeof ref === 'string' ? undefined : (ref as { overrides?: z.output<typeof SpaceOverridesSchema> }).overrides;
    explicit = { classes: o?.classes, inputChannels: o?.inputChannels };
    raw = { ...base, ...(o?.classes !== undefined ? { classes: o.classes } : {}),
      ...(o?.inputChannels !== undefined ? { inputChannels: o.inputChannels } : {}),
      flops: { ...base.flops, ...(o?.flops ?? {}) }, levels: o?.levels ?? base.levels };
  } else {
    raw = (ref as { inline: SearchSpace }).inline;
    explicit = { classes: (raw as SearchSpace).classes, inputChannels: (raw as SearchSpace).inputChannels };
  }
  // The dataset fixes classes and channels; adopt them unless the user set them, and then they must agree.
  const shape = datasetShape(config.dataset);
  const prefix = presetName !== null ? 'space.overrides' : 'space.inline';
  const patched = { ...(raw as SearchSpace) };
  if (shape.classes !== undefined) {
    if (explicit.classes !== undefined && explicit.classes !== shape.classes) {
      issues.push({ path: `${prefix}.classes`, message: `dataset "${config.dataset.kind}" has ${shape.classes} classes but the space says ${explicit.classes}; make them equal` });
    }
    patched.classes = shape.classes;
  }
  if (shape.channels !== undefined) {
    if (explicit.inputChannels !== undefined && explicit.inputChannels !== shape.channels) {
      issues.push({ path: `${prefix}.inputChannels`, message: `dataset "${config.dataset.kind}" has ${shape.channels} channel(s) but the space says ${explicit.inputChannels}; make them equal` });
    }
    patched.inputChannels = shape.channels;
  }
  if (config.search.scaleTolerance !== undefined) {
    patched.flops = { ...patched.flops, scaleTolerance: config.search.scaleTolerance };
  }
  try {
    const space = parseSearchSpace(patched);
    if (issues.length === 0) checkLevelWeights(config, space, issues);
    return { space, issues };
  } catch (err) {
    if (err instanceof InvalidInputError) {
      const at = presetName !== null ? 'space' : 'space.inline';
      return { issues: [...issues, ...err.issues.map((i) => ({ path: i.path ? `${at}.${i.path}` : at, message: i.message }))] };
    }
    throw err;
  }
}

function checkLevelWeights(config: RunConfig, space: SearchSpace, issues: InputIssue[]): void {
  const lw = config.supernet.levelWeights;
  if (Array.isArray(lw) && lw.length !== space.levels.length) {
    issues.push({ path: 'supernet.levelWeights', message: `expected ${space.levels.length} weights (one per level 0..${space.levels.length - 1}), got ${lw.length}` });
  }
  const fw = config.search.fitnessWeights;
  if (Array.isArray(fw) && fw.length !== space.levels.length - 1) {
    issues.push({ path: 'search.fitnessWeights', message: `expected ${space.levels.length - 1} weights (one per level 1..${space.levels.length - 1}), got ${fw.length}` });
  }
  // Optional chaining: child workflows of runs started before these fields existed get the old config.
  const c = config.retraining.compound as RunConfig['retraining']['compound'] | undefined;
  if (c?.alpha === 1 && c.beta === 1 && c.gamma === 1) {
    issues.push({ path: 'retraining.compound', message: 'α, β and γ are all 1, so the baselines could never grow; raise at least one above 1' });
  }
  const k = (config.calibration as RunConfig['calibration'] | undefined)?.subnets ?? 0;
  if (k > 0 && k < 3) {
    issues.push({ path: 'calibration.subnets', message: `a rank correlation needs at least 3 sub-networks, got ${k}; use 0 to switch calibration off` });
  }
  if (config.search.tournamentSize > config.search.population) {
    issues.push({ path: 'search.tournamentSize', message: `must not exceed search.population (${config.search.population})` });
  }
}

/**
 * Validates a config object (already parsed from YAML or JSON), applies defaults, and checks it
 * against its space (preset exists, level-weight lists have one entry per level, dataset and space
 * agree on classes and channels). Throws {@link InvalidInputError} listing every problem with its path.
 */
export function parseConfigObject(value: unknown): RunConfig {
  const res = RunConfigSchema.safeParse(value);
  if (!res.success) throw new InvalidInputError('config', issuesFromZod(res.error));
  const { issues } = buildSpace(res.data);
  if (issues.length > 0) throw new InvalidInputError('config', issues);
  return res.data;
}

/**
 * The search space of a (parsed) config: the preset or inline space with overrides applied, classes and
 * input channels taken from the dataset, and `search.scaleTolerance` applied.
 */
export function resolveSpace(config: RunConfig): SearchSpace {
  const { space, issues } = buildSpace(config);
  if (!space || issues.length > 0) throw new InvalidInputError('config', issues);
  return space;
}

/**
 * The config with its machine-dependent defaults decided: `resources.evaluationConcurrency: auto` becomes
 * `cores`. The CLI calls this before a run starts, so the run (and its hash) records what was used.
 */
export function withMachineDefaults(config: RunConfig, cores: number): RunConfig {
  const r = config.resources;
  if (r.evaluationConcurrency !== 'auto') return config;
  return { ...config, resources: { ...r, evaluationConcurrency: Math.max(1, Math.floor(cores)) } };
}

/** Evaluation chunks per search batch: the config's number; `auto` left unresolved counts as 1. */
export function evaluationConcurrency(config: RunConfig): number {
  const c = config.resources.evaluationConcurrency;
  return c === 'auto' ? 1 : c;
}

/**
 * Retraining children running at once: as many as evaluation chunks (the number of compute activities the run
 * was sized for; the CLI resolves `auto` to the core count); `auto` left unresolved sets no limit.
 */
export function retrainConcurrency(config: RunConfig): number {
  const c = config.resources.evaluationConcurrency;
  return c === 'auto' ? Number.POSITIVE_INFINITY : c;
}

/** The task queue of supernet training epochs: its own when configured, else the compute queue. */
export function supernetQueue(config: RunConfig): string {
  const q = config.resources.taskQueues;
  return q.supernet ?? q.compute;
}

/** SHA-256 (hex) of the config's canonical JSON with defaults applied: equal meaning, equal hash. */
export function configHash(config: RunConfig): string {
  return sha256Hex(canonicalJson(config));
}

/** JSON Schema (draft 2020-12) of the config file as users write it (defaults are optional). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(RunConfigSchema, { io: 'input' }) as Record<string, unknown>;
  return { ...schema, title: 'ScaleNet run config', description: 'Config of one `scalenet run` (see DESIGN.md §3).' };
}
