/**
 * Architecture encoding: a base network (per-stage kernel lists; a list's length is the stage depth)
 * plus the scaling multipliers (depth d, width w) and the input resolution r. Level 0 is d = w = 1 at the
 * space's base resolution.
 */
import { z } from 'zod';
import { InvalidInputError, issuesFromZod, type InputIssue } from './errors';
import { SPACE_MAX, type SearchSpace } from './space';

/** Per-stage kernel sizes of a base network, e.g. [[5],[5],[7,7,5,3],…]. */
export const BaseSchema = z.array(z.array(z.int().positive()).min(1, { message: 'a stage needs at least one layer' }).max(SPACE_MAX.depth)).max(SPACE_MAX.stages);

/** A (base, multipliers, resolution) point of the space. Multipliers need not lie on a level's grid. */
export const ArchitectureSchema = z.object({
  stages: BaseSchema,
  depth: z.number().positive({ message: 'depth multiplier must be positive' })
    .max(SPACE_MAX.multiplier, { message: `depth multiplier must be at most ${SPACE_MAX.multiplier}` }),
  width: z.number().positive({ message: 'width multiplier must be positive' })
    .max(SPACE_MAX.multiplier, { message: `width multiplier must be at most ${SPACE_MAX.multiplier}` }),
  resolution: z.int().positive({ message: 'resolution must be a positive integer (pixels)' })
    .max(SPACE_MAX.resolution, { message: `resolution must be at most ${SPACE_MAX.resolution} pixels` }),
}).strict();

/** The arch-file form (DESIGN §5): an architecture that may name the preset it belongs to. */
export const ArchFileSchema = ArchitectureSchema.extend({ preset: z.string().min(1).optional() }).strict();

/** Per-stage kernel lists. */
export type Base = number[][];
export type Architecture = z.infer<typeof ArchitectureSchema>;
export type ArchFile = z.infer<typeof ArchFileSchema>;

/** A scaling strategy σ = (d, w, r) of one level. */
export interface Multipliers {
  readonly depth: number;
  readonly width: number;
  readonly resolution: number;
}

/** Combines a base with multipliers. */
export function makeArchitecture(stages: Base, m: Multipliers): Architecture {
  return { stages: stages.map((s) => s.slice()), depth: m.depth, width: m.width, resolution: m.resolution };
}

/** The level-0 architecture of a base (d = w = 1, base resolution). */
export function baseArchitecture(space: SearchSpace, stages: Base): Architecture {
  return makeArchitecture(stages, { depth: 1, width: 1, resolution: space.resolution });
}

/**
 * Checks a base against a space and returns every problem found ([] when valid): stage count, each
 * stage's depth within 1..maxDepth, each kernel in the stage's allowed set. Paths are relative to the
 * architecture (e.g. `stages[2][1]`).
 */
export function baseIssues(space: SearchSpace, stages: readonly (readonly number[])[]): InputIssue[] {
  const issues: InputIssue[] = [];
  if (stages.length !== space.stages.length) {
    issues.push({ path: 'stages', message: `expected ${space.stages.length} stages (space "${space.name}"), got ${stages.length}` });
  }
  stages.forEach((kernels, i) => {
    const stage = space.stages[i];
    if (!stage) return;
    if (kernels.length < 1 || kernels.length > stage.maxDepth) {
      issues.push({
        path: `stages[${i}]`,
        message: `depth ${kernels.length} is out of range (allowed: 1..${stage.maxDepth})`,
      });
    }
    kernels.forEach((k, j) => {
      if (!stage.kernels.includes(k)) {
        issues.push({ path: `stages[${i}][${j}]`, message: `kernel ${k} is not allowed (allowed: ${stage.kernels.join(', ')})` });
      }
    });
  });
  return issues;
}

/**
 * Validates an unknown value as an architecture of `space`: shape (zod) first, then membership of the
 * base in the space. Returns the architecture; throws {@link InvalidInputError} listing every issue
 * with its path. Multipliers only need to be positive: extrapolated and compound-scaled networks lie
 * off the levels' grids on purpose.
 */
export function validateArchitecture(space: SearchSpace, value: unknown): Architecture {
  const res = ArchitectureSchema.safeParse(value);
  if (!res.success) throw new InvalidInputError('architecture', issuesFromZod(res.error));
  const issues = baseIssues(space, res.data.stages);
  if (issues.length > 0) throw new InvalidInputError('architecture', issues);
  return res.data;
}

/** Like {@link validateArchitecture} for the arch-file form (allows an optional `preset`). */
export function parseArchFile(value: unknown): ArchFile {
  const res = ArchFileSchema.safeParse(value);
  if (!res.success) throw new InvalidInputError('architecture file', issuesFromZod(res.error));
  return res.data;
}

/** A canonical string key for memoising by (architecture, multipliers); equal architectures give equal keys. */
export function architectureKey(arch: Architecture): string {
  return `${arch.stages.map((s) => s.join('.')).join('-')}|d${arch.depth}|w${arch.width}|r${arch.resolution}`;
}

/** A canonical string key of a base alone. */
export function baseKey(stages: readonly (readonly number[])[]): string {
  return stages.map((s) => s.join('.')).join('-');
}
