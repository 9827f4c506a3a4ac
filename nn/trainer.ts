/**
 * Trainers: the super-supernet trained one sampled path per step (DESIGN §3.4), and a standalone
 * network trained from scratch (§3.9). Both keep their whole state — weights, momentum, step, sampler
 * RNG and data order — serializable to a JSON header plus bytes, and resume bit-exactly (§4).
 */
import { Rng, type RngState } from '../core/rng';
import { hierarchicalSampler, uniformSampler, type SampledSubnet } from '../core/sampler';
import { scaleNetwork, superSupernetSpec, type ScaledNetwork } from '../core/scaling';
import type { Architecture } from '../core/arch';
import type { SearchSpace } from '../core/space';
import type { Batch, BatchStreamState } from '../data/batcher';
import type { Dataset } from '../data/dataset';
import { trainingBatches, type BatchSource } from '../data/stream';
import { batchToTensor } from '../data/tensor';
import { networkParams, superSupernetParams, type ParamSpec } from './params';
import { learningRateAt, parseRecipe, type TrainingRecipe, type TrainingRecipeInput } from './recipe';
import { trainStep } from './step';
import { ParamStore, type TensorEntry } from './store';

/** Progress of one step, given to `onProgress`. */
export interface StepProgress {
  step: number;
  loss: number;
  learningRate: number;
  /** The architecture trained this step (the sampled path for a supernet). */
  arch: Architecture;
  level: number | null;
}

/** Serialized trainer: small JSON header and one byte blob (weights then momentum, float32). */
export interface TrainerState {
  header: TrainerHeader;
  bytes: Uint8Array;
}

/** The JSON part of {@link TrainerState}. */
export interface TrainerHeader {
  format: 'scalenet-trainer/1';
  kind: 'supernet' | 'standalone';
  space: SearchSpace;
  /** Standalone only: the architecture being trained. */
  arch: Architecture | null;
  recipe: TrainingRecipe;
  seed: number;
  step: number;
  samplerRng: RngState;
  data: BatchStreamState;
  tensors: TensorEntry[];
}

/** Arguments to create a trainer. */
export interface TrainerArgs {
  space: SearchSpace;
  data: Dataset;
  /** Recipe; omitted fields take the defaults of {@link TrainingRecipeSchema}. */
  recipe?: TrainingRecipeInput;
  /** Seed of weight init, data order and sampling. */
  seed: number;
}

/**
 * The wasm backend ran out of heap (its native code then fails with "memory access out of bounds" or
 * similar, and its state is no longer trustworthy): restart the process with a smaller batch or
 * resolution, or use a native backend.
 */
export class WasmHeapError extends Error {
  constructor(cause: Error, batchSize: number, resolution: number) {
    super(`the wasm backend ran out of memory in a training step (batch ${batchSize}, ${resolution} px): ${cause.message}. ` +
      'Lower recipe.batchSize (the tiny preset fits 32 at its top level, cifar 32 at its base) or use the tensorflow backend; ' +
      'this process\'s tfjs state is corrupt, so restart it before retrying');
    this.name = 'WasmHeapError';
  }
}

function isWasmHeapFailure(err: unknown): err is Error {
  return err instanceof Error && err.name === 'RuntimeError' && /out of bounds|Aborted\(/.test(err.message);
}

/** Lets the event loop run (Temporal heartbeats, timers) between steps. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Shared machinery of the two trainers. */
export class Trainer {
  protected constructor(
    readonly kind: 'supernet' | 'standalone',
    readonly space: SearchSpace,
    readonly arch: Architecture | null,
    readonly recipe: TrainingRecipe,
    readonly seed: number,
    readonly store: ParamStore,
    readonly specs: ParamSpec[],
    protected data: Dataset,
    protected stream: BatchSource,
    protected rng: Rng,
    protected stepCount: number,
  ) {}

  /** Steps taken so far. */
  get step(): number {
    return this.stepCount;
  }

  /** The dataset this trainer draws batches from. */
  get dataset(): Dataset {
    return this.data;
  }

  /** The path for the next step; the supernet draws it from its sampler RNG. */
  protected nextPath(): SampledSubnet {
    return this.samplePath(this.rng);
  }

  private samplePath(rng: Rng): SampledSubnet {
    if (this.arch) return { level: null, arch: this.arch };
    return this.recipe.sampler === 'uniform'
      ? uniformSampler(this.space, rng)
      : hierarchicalSampler(this.space, rng, { levelWeights: this.recipe.levelWeights });
  }

  /**
   * Resolutions of the steps after the current one, for a stream that decodes ahead. Drawn from a copy
   * of the sampler RNG, so the paths trained (and the checkpointed sampler state) stay what they were.
   */
  private upcomingResolutions(): number[] {
    const n = this.stream.lookahead ?? 0;
    if (n === 0) return [];
    const rng = Rng.fromState(this.rng.state());
    return Array.from({ length: n }, () => this.samplePath(rng).arch.resolution);
  }

  /** Runs one step synchronously and returns its progress record (in-memory datasets only; {@link train} streams). */
  trainOneStep(): StepProgress {
    const path = this.nextPath();
    const batch = this.stream.next(path.arch.resolution);
    if (batch instanceof Promise) throw new Error('trainOneStep: a streamed dataset delivers batches asynchronously; use train()');
    return this.stepOn(path, batch);
  }

  /** One step on a path and its batch. */
  private stepOn(path: SampledSubnet, batch: Batch): StepProgress {
    const net: ScaledNetwork = scaleNetwork(this.space, path.arch);
    const x = batchToTensor(batch, this.data.normalization, path.arch.resolution);
    const lr = learningRateAt(this.recipe, this.stepCount);
    try {
      let loss: number;
      try {
        loss = trainStep(this.store, net, x, batch.labels, {
          learningRate: lr, momentum: this.recipe.momentum, nesterov: this.recipe.nesterov,
          weightDecay: this.recipe.weightDecay, labelSmoothing: this.recipe.labelSmoothing,
        });
      } catch (err) {
        if (isWasmHeapFailure(err)) throw new WasmHeapError(err, this.recipe.batchSize, path.arch.resolution);
        throw err;
      }
      this.stepCount += 1;
      return { step: this.stepCount, loss, learningRate: lr, arch: path.arch, level: path.level };
    } finally {
      x.dispose();
    }
  }

  /**
   * Trains `steps` more steps, yielding to the event loop after each so heartbeats go out. `onProgress`
   * is awaited after every step; throw from it (e.g. on cancellation) to stop early.
   */
  async train(steps: number, onProgress?: (p: StepProgress) => void | Promise<void>): Promise<{ steps: number; meanLoss: number }> {
    let sum = 0;
    for (let i = 0; i < steps; i++) {
      const path = this.nextPath();
      const b = this.stream.next(path.arch.resolution, this.upcomingResolutions());
      const p = this.stepOn(path, b instanceof Promise ? await b : b);
      sum += p.loss;
      if (!Number.isFinite(p.loss)) throw new Error(`training diverged at step ${p.step}: loss ${p.loss} (lower recipe.learningRate)`);
      await onProgress?.(p);
      await yieldToEventLoop();
    }
    return { steps, meanLoss: steps > 0 ? sum / steps : NaN };
  }

  /** Everything needed to continue exactly here, in this or another process. */
  async serialize(): Promise<TrainerState> {
    const { entries, bytes } = await this.store.toBytes();
    return {
      header: {
        format: 'scalenet-trainer/1', kind: this.kind, space: this.space, arch: this.arch, recipe: this.recipe,
        seed: this.seed, step: this.stepCount, samplerRng: this.rng.state(), data: this.stream.state(), tensors: entries,
      },
      bytes,
    };
  }

  /** Frees the weights. */
  dispose(): void {
    this.store.dispose();
  }

  protected static build<T>(
    make: (kind: 'supernet' | 'standalone', specs: ParamSpec[], recipe: TrainingRecipe, store: ParamStore, stream: BatchSource, rng: Rng, step: number) => T,
    kind: 'supernet' | 'standalone', specs: ParamSpec[], args: TrainerArgs, state?: TrainerState,
  ): T {
    const recipe = state ? state.header.recipe : parseRecipe(args.recipe);
    // `augment` is absent from states saved before it existed; they trained with augmentation.
    const streamArgs = { batchSize: recipe.batchSize, seed: args.seed, augment: recipe.augment === false ? undefined : args.data.augmentation };
    if (!state) {
      const store = ParamStore.init(specs, args.seed);
      return make(kind, specs, recipe, store, trainingBatches(args.data, streamArgs), new Rng(`sampler:${args.seed}`), 0);
    }
    const h = state.header;
    if (h.format !== 'scalenet-trainer/1' || h.kind !== kind) throw new Error(`trainer state: expected a scalenet-trainer/1 ${kind} state, got ${h.format} ${h.kind}`);
    if (JSON.stringify(h.space) !== JSON.stringify(args.space)) throw new Error(`trainer state: saved for space "${h.space.name}", which differs from the given space "${args.space.name}"`);
    const store = ParamStore.fromBytes(specs, h.tensors, state.bytes);
    return make(kind, specs, recipe, store, trainingBatches(args.data, { ...streamArgs, seed: h.seed }, h.data), Rng.fromState(h.samplerRng), h.step);
  }
}

/** Trains the shared-weight super-supernet, one hierarchically sampled path per step. */
export class SupernetTrainer extends Trainer {
  /** Fresh supernet (seeded init). */
  static create(args: TrainerArgs): SupernetTrainer {
    return SupernetTrainer.make(args);
  }

  /** Continues from {@link Trainer.serialize}; `args.space` must equal the saved space, `args.seed` is ignored. */
  static restore(args: Omit<TrainerArgs, 'seed' | 'recipe'>, state: TrainerState): SupernetTrainer {
    return SupernetTrainer.make({ ...args, seed: state.header.seed }, state);
  }

  private static make(args: TrainerArgs, state?: TrainerState): SupernetTrainer {
    const specs = superSupernetParams(superSupernetSpec(args.space));
    return Trainer.build((kind, sp, recipe, store, stream, rng, step) =>
      new SupernetTrainer(kind, args.space, null, recipe, args.seed, store, sp, args.data, stream, rng, step), 'supernet', specs, args, state);
  }
}

/** Trains one architecture from scratch (retraining, DESIGN §3.9). */
export class StandaloneTrainer extends Trainer {
  /** Fresh network for `arch` (seeded init). */
  static create(args: TrainerArgs & { arch: Architecture }): StandaloneTrainer {
    return StandaloneTrainer.make(args);
  }

  /** Continues from {@link Trainer.serialize}. */
  static restore(args: Omit<TrainerArgs, 'seed' | 'recipe'>, state: TrainerState): StandaloneTrainer {
    if (!state.header.arch) throw new Error('trainer state: a standalone state must carry its architecture');
    return StandaloneTrainer.make({ ...args, seed: state.header.seed, arch: state.header.arch }, state);
  }

  private static make(args: TrainerArgs & { arch: Architecture }, state?: TrainerState): StandaloneTrainer {
    const specs = networkParams(scaleNetwork(args.space, args.arch));
    return Trainer.build((kind, sp, recipe, store, stream, rng, step) =>
      new StandaloneTrainer(kind, args.space, args.arch, recipe, args.seed, store, sp, args.data, stream, rng, step), 'standalone', specs, args, state);
  }
}
