/**
 * The one check of a run config before anything starts: the CLI calls {@link validateRunConfig} before
 * `run`/`resume` submit (exit 2 with the path), and the run workflow calls it again and fails the run with
 * the same reason. It adds to the schema (field by field, core/config.ts) what only the whole config can
 * tell: a config whose fields are each valid but that could never run (all-zero weights, a space with a
 * single level, a FLOPs target no base can reach, a dataset too large to hold).
 */
import { parseConfigObject, resolveSpace, type RunConfig } from './config';
import { InvalidInputError, type InputIssue } from './errors';
import { baseMacs } from './feasibility';
import type { SearchSpace } from './space';

/** Bytes of images a synthetic dataset may generate in memory (train + test, one byte per pixel channel). */
export const MAX_SYNTHETIC_BYTES = 2 ** 31;

/** Where a space's own fields live in the config, for paths in messages. */
function spacePath(config: RunConfig): string {
  const ref = config.space;
  return typeof ref === 'string' ? 'space' : 'preset' in ref ? 'space.overrides' : 'space.inline';
}

function allZero(w: readonly number[]): boolean {
  return !(w.reduce((a, b) => a + b, 0) > 0);
}

/** The smallest and the largest base MACs of a space (MACs grow with depth and kernel size). */
export function baseMacsRange(space: SearchSpace): { min: number; max: number } {
  const min = baseMacs(space, space.stages.map((s) => [Math.min(...s.kernels)]));
  const max = baseMacs(space, space.stages.map((s) => Array.from({ length: s.maxDepth }, () => Math.max(...s.kernels))));
  return { min, max };
}

/** Problems of a parsed config that its fields alone do not show; [] when it can run. */
export function runIssues(config: RunConfig): InputIssue[] {
  const issues: InputIssue[] = [];
  const space = resolveSpace(config);
  const at = spacePath(config);
  if (space.levels.length < 2) {
    issues.push({ path: `${at}.levels`, message: 'the space has only level 0; the scaling search needs at least one level above it (add levels)' });
  }
  const lw = config.supernet.levelWeights;
  if (Array.isArray(lw) && allZero(lw)) {
    issues.push({ path: 'supernet.levelWeights', message: 'weights are all zero: no level could ever be sampled; give at least one level a positive weight' });
  }
  const fw = config.search.fitnessWeights;
  if (Array.isArray(fw) && allZero(fw)) {
    issues.push({ path: 'search.fitnessWeights', message: 'weights are all zero: every base would have the same fitness; give at least one level a positive weight' });
  }
  const { min, max } = baseMacsRange(space);
  const { target, tolerance } = space.flops;
  if (target + tolerance < min || target - tolerance > max) {
    issues.push({
      path: `${at === 'space' ? 'space.overrides' : at}.flops`,
      message: `no base can meet ${target} ± ${tolerance} MACs: bases of this space cost ${min}–${max} MACs; move flops.target into that range or widen flops.tolerance`,
    });
  }
  const d = config.dataset;
  if (d.kind === 'synthetic') {
    const bytes = (d.trainSize + d.testSize) * d.resolution * d.resolution * d.channels;
    if (bytes > MAX_SYNTHETIC_BYTES) {
      issues.push({ path: 'dataset', message: `a synthetic dataset of ${bytes} bytes exceeds the limit of ${MAX_SYNTHETIC_BYTES}; lower trainSize, testSize, resolution or channels` });
    }
  }
  const members = space.levels.length + config.extrapolation.extraLevels;
  (config.retraining.levels ?? []).forEach((l, i) => {
    if (l >= members) issues.push({ path: `retraining.levels[${i}]`, message: `level ${l} does not exist: the family has levels 0..${members - 1}` });
  });
  return issues;
}

/**
 * Parses a config object (defaults applied) and checks that it can run. Throws {@link InvalidInputError}
 * listing every problem with its config path. Pure: the workflow calls it too.
 */
export function validateRunConfig(value: unknown): RunConfig {
  const config = parseConfigObject(value);
  const issues = runIssues(config);
  if (issues.length > 0) throw new InvalidInputError('config', issues);
  return config;
}
