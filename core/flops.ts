/**
 * Exact MACs and parameter counts of a {@link ScaledNetwork} (DESIGN §3.2).
 * - MACs = Σ convs (C_in/groups · k² · C_out · H_out · W_out) + SE (2 · hidden · ⌊hidden/4⌋) + FC (in · out);
 *   BN, activations, pooling, the SE multiply and residual adds count 0.
 * - params = conv weights (no conv bias) + 2 per BN channel (γ, β; running statistics are buffers)
 *   + SE weights and biases + FC weights and bias.
 * The counter, the tfjs model and the exported model must agree; nn/ tests compare against this file.
 */
import type { ScaledNetwork } from './scaling';

/** What a layer of the breakdown is. */
export type LayerKind = 'conv' | 'dwconv' | 'se' | 'pool' | 'fc';

/** One row of the per-layer breakdown. Shapes are [channels, height, width] (or [features] for FC). */
export interface LayerCount {
  readonly name: string;
  readonly kind: LayerKind;
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  readonly macs: number;
  readonly params: number;
}

/** Totals and the breakdown; `macs` and `params` are the sums of `layers`. */
export interface NetworkCount {
  readonly macs: number;
  readonly params: number;
  readonly layers: readonly LayerCount[];
}

/** A k×k conv (+ BN) with `groups` groups: MACs and params (weights + 2·cout for BN). */
function conv(name: string, kind: 'conv' | 'dwconv', cin: number, cout: number, k: number, groups: number,
  inSize: number, outSize: number): LayerCount {
  const weights = (cin / groups) * k * k * cout;
  return {
    name, kind, inShape: [cin, inSize, inSize], outShape: [cout, outSize, outSize],
    macs: weights * outSize * outSize, params: weights + 2 * cout,
  };
}

/** Counts every layer of `net`. Pure arithmetic on integers below 2^53, so results are exact. */
export function countNetwork(net: ScaledNetwork): NetworkCount {
  const layers: LayerCount[] = [];
  const { stem } = net;
  layers.push(conv('stem', 'conv', stem.cin, stem.cout, stem.kernel, 1, stem.inputSize, stem.outputSize));
  for (const b of net.blocks) {
    const p = `stages[${b.stage}][${b.index}]`;
    if (b.expand) layers.push(conv(`${p}.expand`, 'conv', b.cin, b.hidden, 1, 1, b.inputSize, b.inputSize));
    layers.push(conv(`${p}.depthwise`, 'dwconv', b.hidden, b.hidden, b.kernel, b.hidden, b.inputSize, b.outputSize));
    const h = b.hidden;
    const r = b.seHidden;
    layers.push({
      name: `${p}.se`, kind: 'se', inShape: [h, b.outputSize, b.outputSize], outShape: [h, b.outputSize, b.outputSize],
      macs: 2 * h * r, params: h * r + r + r * h + h,
    });
    layers.push(conv(`${p}.project`, 'conv', b.hidden, b.cout, 1, 1, b.outputSize, b.outputSize));
  }
  const { head, fc } = net;
  layers.push(conv('head', 'conv', head.cin, head.cout, 1, 1, head.size, head.size));
  layers.push({ name: 'pool', kind: 'pool', inShape: [head.cout, head.size, head.size], outShape: [head.cout], macs: 0, params: 0 });
  layers.push({ name: 'fc', kind: 'fc', inShape: [fc.cin], outShape: [fc.classes], macs: fc.cin * fc.classes, params: fc.cin * fc.classes + fc.classes });
  let macs = 0;
  let params = 0;
  for (const l of layers) {
    macs += l.macs;
    params += l.params;
  }
  return { macs, params, layers };
}
