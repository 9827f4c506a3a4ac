/**
 * A standalone network as an ONNX model (opset {@link ONNX_OPSET}), for ONNX Runtime on servers, mobile
 * and the web. The graph is the engine's folded inference graph (./evaluate.ts FoldedNetwork): BN folded
 * into each conv's weights and bias, h-swish as the standard `HardSwish` op, SE as GlobalAveragePool →
 * 1×1 Conv + Relu → 1×1 Conv + HardSigmoid(α = 1/6, β = 0.5) → Mul, head → GlobalAveragePool → Flatten → Gemm.
 *
 * Layout: NCHW (the ONNX convention): input `image` float32 [N, C, r, r], output `logits` [N, classes].
 * Padding is explicit and reproduces TensorFlow's 'same' (the extra pixel of an even total goes after).
 * Encoded with the protobufjs classes of `onnx-proto` (the ONNX schema), not by hand.
 */
import * as tf from '@tensorflow/tfjs-core';
import { onnx } from 'onnx-proto';
import type { ScaledNetwork } from '../core/scaling';
import type { ParamLookup } from './forward';
import { foldBn } from './evaluate';
import type { ModelWeights } from './layers';
import { prefixOf } from './params';

/** Default-domain opset of exported models: 14 is the first with `HardSwish`. */
export const ONNX_OPSET = 14;
/** IR version written into the model (ONNX 1.10, supported by every maintained runtime). */
export const ONNX_IR_VERSION = 8;
export const ONNX_INPUT = 'image';
export const ONNX_OUTPUT = 'logits';

/** TensorFlow 'same' padding of one spatial axis: [before, after]. */
export function samePadding(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Options of {@link buildOnnxModel}. */
export interface OnnxExportArgs {
  /** `doc_string` and metadata_props of the model (e.g. run id, model name). */
  docString?: string;
  metadata?: Record<string, string>;
  producerVersion?: string;
}

/** Serialised ONNX model (ModelProto bytes) of `net` with `weights` (BN statistics folded in). */
export function buildOnnxModel(net: ScaledNetwork, weights: ModelWeights, args: OnnxExportArgs = {}): Uint8Array {
  const nodes: onnx.INodeProto[] = [];
  const initializers: onnx.ITensorProto[] = [];
  let counter = 0;
  const fresh = (name: string) => `${name}_${counter++}`;
  const initializer = (name: string, t: tf.Tensor): string => {
    initializers.push({ name, dims: t.shape, dataType: onnx.TensorProto.DataType.FLOAT, floatData: Array.from(t.dataSync()) });
    return name;
  };
  const node = (opType: string, inputs: string[], name: string, attribute: onnx.IAttributeProto[] = []): string => {
    const output = fresh(name);
    nodes.push({ opType, input: inputs, output: [output], name: output, attribute });
    return output;
  };
  const ints = (name: string, v: number[]): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
  const int = (name: string, v: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });
  const float = (name: string, v: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v });

  tf.tidy(() => {
    const folded = foldBn(weights.params, net, weights.stats);
    const p: ParamLookup = (name) => folded.get(name) ?? weights.params(name);
    const name = (prefix: string) => prefix.replace(/\./g, '_');

    // Folded conv (+ HardSwish): TF kernels [k, k, Cin, Cout] / depthwise [k, k, C, 1] → ONNX [Cout, Cin/g, k, k].
    const convBn = (x: string, prefix: string, size: number, stride: number, depthwise: boolean, act: boolean): string => {
      const kernel = p(`${prefix}.w`);
      const [k, , c] = kernel.shape as [number, number, number, number];
      const w = initializer(`${name(prefix)}_w`, tf.transpose(kernel, depthwise ? [2, 3, 0, 1] : [3, 2, 0, 1]));
      const b = initializer(`${name(prefix)}_b`, p(`${prefix}.b`));
      const [before, after] = samePadding(size, k, stride);
      let y = node('Conv', [x, w, b], name(prefix), [
        ints('kernel_shape', [k, k]), ints('strides', [stride, stride]), ints('pads', [before, before, after, after]),
        ints('dilations', [1, 1]), int('group', depthwise ? c : 1),
      ]);
      if (act) y = node('HardSwish', [y], `${name(prefix)}_hswish`);
      return y;
    };
    // A dense layer [in, out] as a 1×1 conv on [N, in, 1, 1] (keeps SE in 4-D, no reshapes).
    const dense1x1 = (x: string, prefix: string, w: string, b: string): string => {
      const kernel = p(w);
      const wi = initializer(`${prefix}_w`, tf.reshape(tf.transpose(kernel), [kernel.shape[1]!, kernel.shape[0]!, 1, 1]));
      return node('Conv', [x, wi, initializer(`${prefix}_b`, p(b))], prefix, [ints('kernel_shape', [1, 1])]);
    };

    let h = convBn(ONNX_INPUT, 'stem', net.stem.inputSize, net.stem.stride, false, true);
    for (const b of net.blocks) {
      const prefix = prefixOf(b);
      const input = h;
      let y = b.expand ? convBn(h, `${prefix}.expand`, b.inputSize, 1, false, true) : h;
      y = convBn(y, `${prefix}.dw`, b.inputSize, b.stride, true, true);
      let g = node('GlobalAveragePool', [y], `${name(prefix)}_se_pool`);
      g = node('Relu', [dense1x1(g, `${name(prefix)}_se_fc1`, `${prefix}.se.w1`, `${prefix}.se.b1`)], `${name(prefix)}_se_relu`);
      g = node('HardSigmoid', [dense1x1(g, `${name(prefix)}_se_fc2`, `${prefix}.se.w2`, `${prefix}.se.b2`)], `${name(prefix)}_se_gate`, [float('alpha', 1 / 6), float('beta', 0.5)]);
      y = node('Mul', [y, g], `${name(prefix)}_se_scale`);
      y = convBn(y, `${prefix}.project`, b.outputSize, 1, false, false);
      h = b.residual ? node('Add', [input, y], `${name(prefix)}_residual`) : y;
    }
    h = convBn(h, 'head', net.head.size, 1, false, true);
    h = node('Flatten', [node('GlobalAveragePool', [h], 'pool')], 'flatten', [int('axis', 1)]);
    const fc = node('Gemm', [h, initializer('fc_w', p('fc.w')), initializer('fc_b', p('fc.b'))], 'fc');
    nodes.push({ opType: 'Identity', input: [fc], output: [ONNX_OUTPUT], name: ONNX_OUTPUT });
    for (const t of folded.values()) t.dispose();
  });

  const r = net.input.resolution;
  const valueInfo = (n: string, dims: (number | string)[]): onnx.IValueInfoProto => ({
    name: n,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'scalenet',
    producerVersion: args.producerVersion ?? '',
    docString: args.docString ?? '',
    metadataProps: Object.entries(args.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'scalenet',
      node: nodes,
      initializer: initializers,
      input: [valueInfo(ONNX_INPUT, ['batch', net.input.channels, r, r])],
      output: [valueInfo(ONNX_OUTPUT, ['batch', net.fc.classes])],
    },
  });
  const err = onnx.ModelProto.verify(model);
  if (err) throw new Error(`ONNX model does not match the schema: ${err}`);
  return onnx.ModelProto.encode(model).finish();
}
