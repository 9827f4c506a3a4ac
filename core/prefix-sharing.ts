/**
 * Shared prefixes between sub-networks of one super-supernet (DESIGN §3.6, evaluation). Two sub-networks whose
 * first layers are the same resolved layers (same input resolution, same slot, kernel and channel counts) use the
 * same weight slices on the same images: their activations up to there, and the BN statistics recalibrated for
 * those layers, are the same numbers. An evaluator that takes candidates in the order of their layers can compute
 * such a prefix once and go on from it for each candidate (nn/evaluate.ts `evaluateSubnetworks`); the search
 * workflow cuts its batches along that order, so the candidates that share most land in the same chunk.
 *
 * Layers here are the resumable ones: layer 0 is the stem (with the input resolution), layer i ≥ 1 is block i − 1.
 * The head is never shared (it ends the network). A "depth" is a number of layers computed: the activation at
 * depth d is the output of layer d − 1.
 */
import type { Architecture } from './arch';
import { scaleNetwork, type ScaledNetwork } from './scaling';
import type { SearchSpace } from './space';

/** One key per resumable layer: equal keys up to layer i mean equal activations up to layer i. */
export function layerKeys(net: ScaledNetwork): string[] {
  const keys = [JSON.stringify({ input: net.input, stem: net.stem })];
  for (const b of net.blocks) keys.push(JSON.stringify(b));
  return keys;
}

/**
 * Relative cost of each resumable layer plus the head (last entry), for balancing work between chunks: MACs
 * plus a charge per activation element for the memory-bound passes (BN / bias, h-swish, SE, residual) that
 * follow each conv. Measured on the tiny space, those passes take about as long as the convs themselves.
 */
export function layerCosts(net: ScaledNetwork): number[] {
  const PER_ELEMENT = 16;
  const { stem } = net;
  const costs = [stem.outputSize ** 2 * stem.cout * (stem.cin * stem.kernel ** 2 + PER_ELEMENT)];
  for (const b of net.blocks) {
    let c = 0;
    if (b.expand) c += b.inputSize ** 2 * b.hidden * (b.cin + PER_ELEMENT);
    c += b.outputSize ** 2 * b.hidden * (b.kernel ** 2 + 2 * PER_ELEMENT);
    c += b.outputSize ** 2 * b.cout * (b.hidden + PER_ELEMENT);
    costs.push(c);
  }
  const { head } = net;
  costs.push(head.size ** 2 * head.cout * (head.cin + PER_ELEMENT));
  return costs;
}

/** Number of leading keys `a` and `b` have in common. */
export function commonPrefix(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function compareKeys(a: readonly string[], b: readonly string[]): number {
  const i = commonPrefix(a, b);
  if (i === a.length || i === b.length) return a.length - b.length;
  return (a[i] as string) < (b[i] as string) ? -1 : 1;
}

/**
 * Indices of `keys` in the order of their layers (a depth-first walk of their prefix tree: candidates sharing the
 * longest prefix are neighbours), ties kept in input order, and for each position the depth it shares with the
 * previous one (0 for the first).
 */
export function prefixOrder(keys: readonly (readonly string[])[]): { order: number[]; shared: number[] } {
  const order = keys.map((_, i) => i).sort((a, b) => compareKeys(keys[a] as string[], keys[b] as string[]) || a - b);
  const shared = order.map((idx, k) => (k === 0 ? 0 : commonPrefix(keys[order[k - 1] as number] as string[], keys[idx] as string[])));
  return { order, shared };
}

/**
 * Splits `items` into min(parts, items.length) non-empty chunks for parallel evaluation: items in prefix order
 * (see {@link prefixOrder}), cut into contiguous runs of near-equal cost where each shared prefix is paid once per
 * chunk. Deterministic: a pure function of the items and `parts`.
 */
export function chunkBySharedPrefix<T extends { arch: Architecture }>(space: SearchSpace, items: readonly T[], parts: number): T[][] {
  const n = Math.max(1, Math.min(parts, items.length));
  if (items.length === 0) return [];
  const nets = items.map((it) => scaleNetwork(space, it.arch));
  const { order, shared } = prefixOrder(nets.map(layerKeys));
  const sorted = order.map((i) => items[i] as T);
  // A chunk's cost when each shared prefix is computed once: its first candidate pays for all its layers, each
  // later one for its layers from the depth it shares with the one before. Layer costs are integers far below 2^53,
  // so these sums are exact.
  const costs = order.map((i) => layerCosts(nets[i] as ScaledNetwork));
  const whole = costs.map((c) => c.reduce((a, b) => a + b, 0));
  const restSums = [0];
  costs.forEach((c, k) => restSums.push((restSums[k] as number) + c.slice(shared[k]).reduce((a, b) => a + b, 0)));
  const chunkCost = (from: number, to: number): number => (whole[from] as number) + (restSums[to] as number) - (restSums[from + 1] as number);
  // Greedy cuts: each chunk takes items until it reaches an even share of what is left for the chunks left; the
  // item that crosses the share goes to whichever side leaves the chunk closer to it.
  const out: T[][] = [];
  let start = 0;
  for (let c = 0; c < n; c++) {
    const chunksLeft = n - c;
    if (chunksLeft === 1) {
      out.push(sorted.slice(start));
      break;
    }
    const target = chunkCost(start, sorted.length) / chunksLeft;
    const maxEnd = sorted.length - (chunksLeft - 1); // leave at least one item per remaining chunk
    let end = start + 1;
    while (end < maxEnd && chunkCost(start, end + 1) <= target) end++;
    if (end < maxEnd) {
      const under = target - chunkCost(start, end);
      const over = chunkCost(start, end + 1) - target;
      if (over < under) end++;
    }
    out.push(sorted.slice(start, end));
    start = end;
  }
  return out;
}
