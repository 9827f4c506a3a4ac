/**
 * Parameter naming and shapes, shared by the super-supernet (tensors at the largest width) and standalone
 * networks (tensors at exactly one architecture's width). A sub-network of the supernet uses, for each of
 * its parameters, the leading corner of the same-named supernet tensor (left channel slicing, DESIGN §3.3);
 * that is what makes "copy the weights out" a slice by name.
 *
 * Names: `stem.w`, `stem.bn.gamma`, `s{stage}.l{index}.k{kernel}.{expand|dw|project}.w` (+ `.bn.gamma`,
 * `.bn.beta`), `….se.{w1,b1,w2,b2}`, `head.w`, `head.bn.*`, `fc.w`, `fc.b`. One weight set per kernel size
 * per layer slot (single-path one-shot): the kernel is part of the block's name.
 */
import type { BlockSpec, ScaledNetwork, SuperSupernetSpec } from '../core/scaling';

/** How a parameter is initialised and regularised. */
export type ParamRole = 'conv' | 'dw' | 'gamma' | 'beta' | 'se-w' | 'se-b' | 'fc-w' | 'fc-b';

/** One named parameter tensor. */
export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly role: ParamRole;
}

/** Weight decay applies to conv and FC weights (SE FCs included), never to BN or biases (DESIGN §3.5). */
export function decays(role: ParamRole): boolean {
  return role === 'conv' || role === 'dw' || role === 'se-w' || role === 'fc-w';
}

/** Name prefix of the block that sits in slot (stage, index) with kernel k. */
export function blockPrefix(stage: number, index: number, kernel: number): string {
  return `s${stage}.l${index}.k${kernel}`;
}

function convBn(out: ParamSpec[], prefix: string, shape: number[], role: 'conv' | 'dw'): void {
  const channels = role === 'dw' ? (shape[2] as number) : (shape[3] as number);
  out.push({ name: `${prefix}.w`, shape, role });
  out.push({ name: `${prefix}.bn.gamma`, shape: [channels], role: 'gamma' });
  out.push({ name: `${prefix}.bn.beta`, shape: [channels], role: 'beta' });
}

interface BlockDims {
  stage: number;
  index: number;
  kernel: number;
  expand: boolean;
  cin: number;
  cout: number;
  hidden: number;
  seHidden: number;
}

function blockParams(out: ParamSpec[], b: BlockDims): void {
  const p = blockPrefix(b.stage, b.index, b.kernel);
  if (b.expand) convBn(out, `${p}.expand`, [1, 1, b.cin, b.hidden], 'conv');
  convBn(out, `${p}.dw`, [b.kernel, b.kernel, b.hidden, 1], 'dw');
  out.push({ name: `${p}.se.w1`, shape: [b.hidden, b.seHidden], role: 'se-w' });
  out.push({ name: `${p}.se.b1`, shape: [b.seHidden], role: 'se-b' });
  out.push({ name: `${p}.se.w2`, shape: [b.seHidden, b.hidden], role: 'se-w' });
  out.push({ name: `${p}.se.b2`, shape: [b.hidden], role: 'se-b' });
  convBn(out, `${p}.project`, [1, 1, b.hidden, b.cout], 'conv');
}

/**
 * The parameters of one concrete network, at its own sizes. For a sub-network of the supernet these
 * are also the slice sizes: each is the leading corner of the supernet tensor of the same name.
 */
export function networkParams(net: ScaledNetwork): ParamSpec[] {
  const out: ParamSpec[] = [];
  convBn(out, 'stem', [net.stem.kernel, net.stem.kernel, net.stem.cin, net.stem.cout], 'conv');
  for (const b of net.blocks) blockParams(out, b);
  convBn(out, 'head', [1, 1, net.head.cin, net.head.cout], 'conv');
  out.push({ name: 'fc.w', shape: [net.fc.cin, net.fc.classes], role: 'fc-w' });
  out.push({ name: 'fc.b', shape: [net.fc.classes], role: 'fc-b' });
  return out;
}

/** Every parameter of the super-supernet: every slot, every kernel, at the largest width. */
export function superSupernetParams(spec: SuperSupernetSpec): ParamSpec[] {
  const out: ParamSpec[] = [];
  convBn(out, 'stem', [spec.stem.kernel, spec.stem.kernel, spec.stem.cin, spec.stem.maxCout], 'conv');
  for (const stage of spec.stages) {
    for (const slot of stage) {
      for (const kernel of slot.kernels) {
        blockParams(out, {
          stage: slot.stage, index: slot.index, kernel, expand: slot.expand,
          cin: slot.maxCin, cout: slot.maxCout, hidden: slot.maxHidden, seHidden: slot.maxSeHidden,
        });
      }
    }
  }
  convBn(out, 'head', [1, 1, spec.head.maxCin, spec.head.cout], 'conv');
  out.push({ name: 'fc.w', shape: [spec.fc.cin, spec.fc.classes], role: 'fc-w' });
  out.push({ name: 'fc.b', shape: [spec.fc.classes], role: 'fc-b' });
  return out;
}

/**
 * Names of the BN layers of each resumable layer (core/prefix-sharing.ts: the stem, then every block), in forward
 * order; the head's `head` comes after them.
 */
export function layerBnPrefixes(net: ScaledNetwork): string[][] {
  return [['stem'], ...net.blocks.map((b) => {
    const p = blockPrefix(b.stage, b.index, b.kernel);
    return b.expand ? [`${p}.expand`, `${p}.dw`, `${p}.project`] : [`${p}.dw`, `${p}.project`];
  })];
}

/** Names of the BN layers (conv prefixes) of a network, in forward order. */
export function bnPrefixes(net: ScaledNetwork): string[] {
  return [...layerBnPrefixes(net).flat(), 'head'];
}

/** The prefix of a block spec. */
export function prefixOf(b: BlockSpec): string {
  return blockPrefix(b.stage, b.index, b.kernel);
}
