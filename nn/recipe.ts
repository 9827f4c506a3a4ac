/**
 * The training recipe (DESIGN §3.5), one zod schema with documented defaults, shared by supernet
 * training and standalone retraining.
 */
import { z } from 'zod';

export const TrainingRecipeSchema = z.object({
  /** Total optimizer steps the schedule spans (cosine reaches 0 here). Default 1000. */
  steps: z.int().positive().default(1000),
  /** Images per step. Default 64. */
  batchSize: z.int().positive().default(64),
  /** Peak learning rate (after warm-up). Default 0.1 (SGD, batch 64). */
  learningRate: z.number().positive().default(0.1),
  /** Linear warm-up steps from lr/warmupSteps to lr. Default 5% of `steps` (set explicitly to override). */
  warmupSteps: z.int().nonnegative().optional(),
  /** SGD momentum. Default 0.9. */
  momentum: z.number().min(0).max(1).default(0.9),
  /** Nesterov momentum. Default true. */
  nesterov: z.boolean().default(true),
  /** L2 weight decay on conv and FC weights (not BN, not biases). Default 4e-5. */
  weightDecay: z.number().nonnegative().default(4e-5),
  /** Label smoothing ε. Default 0.1. */
  labelSmoothing: z.number().min(0).max(1).default(0.1),
  /** Crop/flip augmentation of training batches as the dataset defines it; false = plain batches. Default true. */
  augment: z.boolean().default(true),
  /** Supernet only: `hierarchical` (DESIGN §3.4, default) or `uniform` (ablation). */
  sampler: z.enum(['hierarchical', 'uniform']).default('hierarchical'),
  /** Supernet only: level distribution of the hierarchical sampler. Default `gridSize`. */
  levelWeights: z.union([z.enum(['gridSize', 'triples', 'uniform']), z.array(z.number().nonnegative())]).default('gridSize'),
}).strict();

export type TrainingRecipe = z.output<typeof TrainingRecipeSchema>;
export type TrainingRecipeInput = z.input<typeof TrainingRecipeSchema>;

/** Parses a recipe, naming the bad field in the error. */
export function parseRecipe(value: TrainingRecipeInput | undefined): TrainingRecipe {
  const r = TrainingRecipeSchema.safeParse(value ?? {});
  if (!r.success) throw new Error(`training recipe: ${r.error.issues.map((i) => `${['recipe', ...i.path].join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** Warm-up steps actually used. */
export function warmupSteps(r: TrainingRecipe): number {
  return r.warmupSteps ?? Math.floor(0.05 * r.steps);
}

/**
 * Learning rate of step t (0-based): linear warm-up lr·(t+1)/W for t < W, then cosine decay
 * lr·½(1 + cos(π·(t−W)/(steps−W))). Past `steps` it stays at 0.
 */
export function learningRateAt(r: TrainingRecipe, t: number): number {
  const w = warmupSteps(r);
  if (t < w) return (r.learningRate * (t + 1)) / w;
  const span = Math.max(1, r.steps - w);
  const progress = Math.min(1, (t - w) / span);
  return 0.5 * r.learningRate * (1 + Math.cos(Math.PI * progress));
}
