/**
 * "Train once, search many" (issue 15): a run may reuse the trained super-supernet (and prepared data) of an
 * earlier run when everything that decides the supernet's weights is equal. This file decides *what* must be
 * equal and lists each difference; it is pure so the CLI (before submitting) and the workflow (before using a
 * checkpoint) run the same check.
 */
import { resolveSpace, type RunConfig } from './config';
import { InvalidInputError } from './errors';
import { canonicalJson } from './hash';
import type { ObjectRef } from './refs';

/** Format of the lineage record a reusing run saves as its train-supernet stage record. */
export const LINEAGE_RECORD_FORMAT = 'scalenet.lineage/v1';

/** One field that differs between two configs, with both values (JSON). */
export interface ConfigDifference {
  /** Dotted path in the resolved config, e.g. `supernet.epochs`, `space.levels`. */
  path: string;
  a: unknown;
  b: unknown;
}

/** Where a reused super-supernet came from: recorded in the new run's manifest, results and history. */
export interface SupernetLineage {
  /** Run whose super-supernet and prepared data this run reuses. */
  sourceRunId: string;
  sourceConfigHash: string;
  /** Manifest of the source's final supernet checkpoint (its sha256 pins every tensor, see storage/checkpoints.ts). */
  checkpoint: ObjectRef;
  /** The source's prepared-data index (its shard refs carry their own sha256). */
  data: ObjectRef;
  /** Compute seconds the source spent training the super-supernet: what this run did not spend. */
  avoidedComputeSeconds: number;
}

/**
 * The part of a config that decides the super-supernet's weights:
 * - `seed` (init, data order, sampling) and `dataset`;
 * - `search.minivalSize`: minival is held out of the training split, so it changes the training images;
 * - the resolved space *without* its FLOPs constraint: the hierarchical sampler draws bases without looking at
 *   FLOPs (core/sampler.ts `randomBase`), so a new FLOPs target or tolerance is a new search on the same weights;
 *   preset names and overrides are compared as the space they resolve to (`tiny` = `{preset: tiny}`);
 * - the whole `supernet` section except `from`.
 */
export function supernetDeterminants(config: RunConfig): Record<string, unknown> {
  const { flops: _flops, ...space } = resolveSpace(config);
  const { from: _from, ...supernet } = config.supernet;
  return { seed: config.seed, dataset: config.dataset, search: { minivalSize: config.search.minivalSize }, space, supernet };
}

/**
 * Every field that decides the supernet's weights and differs between the source run's config and the new
 * one; empty when the new run may reuse the source's super-supernet.
 */
export function supernetMismatches(source: RunConfig, target: RunConfig): ConfigDifference[] {
  return diffConfigs(supernetDeterminants(source), supernetDeterminants(target));
}

/**
 * The error for a refused reuse: one issue per differing field, with both values, so `scalenet run` exits 2
 * naming every field and the workflow fails non-retryably with the same text.
 */
export function supernetReuseError(sourceRunId: string, diffs: readonly ConfigDifference[]): InvalidInputError {
  const shown = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
  return new InvalidInputError(`supernet.from: run ${sourceRunId}'s super-supernet was trained with other settings; make these fields equal to reuse it, or train a new one (drop supernet.from / --supernet-from)`,
    diffs.map((d) => ({ path: d.path, message: `${shown(d.a)} in run ${sourceRunId}, ${shown(d.b)} here` })));
}

/**
 * Leaf-by-leaf differences between two JSON values (objects are walked; arrays and scalars compare whole,
 * by canonical JSON). Paths are dotted; the root has path ''.
 */
export function diffConfigs(a: unknown, b: unknown, path = ''): ConfigDifference[] {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffConfigs(a[k], b[k], path ? `${path}.${k}` : k));
  }
  return canonical(a) === canonical(b) ? [] : [{ path, a, b }];
}

const canonical = (v: unknown) => (v === undefined ? 'undefined' : canonicalJson(v));
