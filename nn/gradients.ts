/**
 * Gradients for the convolution kernels that the stock wasm backend lacks.
 *
 * tfjs-backend-wasm 4.22 implements Conv2D, DepthwiseConv2dNative and Conv2DBackpropInput but not
 * Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter nor DepthwiseConv2dNativeBackpropInput
 * (DESIGN §6), so `tf.grad` through a convolution throws there. We re-register the gradients of
 * `Conv2D` and `DepthwiseConv2dNative` (the registry is global, keyed by forward kernel): when the
 * active backend has the native backprop kernel we delegate to tfjs' own gradient, otherwise we build
 * the same quantity from ops every backend has (pad, strided slice, matMul, multiply/sum, depthwise conv).
 *
 * Limits (checked, with an explicit error): NHWC, dilation 1 — all the supernet uses.
 *
 * Caveat: fused ops (`tf.fused.conv2d`, used by tfjs-layers' Conv2D layer) carry their own custom
 * gradient that calls the missing kernel directly, so a tf.LayersModel cannot be trained on wasm; the
 * engine trains with its functional graph and uses LayersModels only for inference and export.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // side effect: registers tfjs-core's stock gradients in the CJS build

type PadAttr = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

interface ConvAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dataFormat?: string;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function pair(v: number | [number, number] | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  return typeof v === 'number' ? [v, v] : v;
}

function checkAttrs(kernel: string, attrs: ConvAttrs): void {
  const [dh, dw] = pair(attrs.dilations, 1);
  if (dh !== 1 || dw !== 1) throw new Error(`${kernel} gradient on this backend: dilation ${dh}x${dw} is not supported (only 1)`);
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`${kernel} gradient on this backend: dataFormat ${attrs.dataFormat} is not supported (only NHWC)`);
  }
}

/** Padding and output geometry exactly as the forward kernel computed it. */
function geometry(xShape: number[], filterShape: [number, number, number, number], attrs: ConvAttrs, depthwise: boolean) {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape, attrs.strides, 1,
    attrs.pad as 'valid' | 'same' | number, attrs.dimRoundingMode, depthwise,
  );
}

/**
 * The k×k patches of the padded input that meet output pixel (i, j) through filter tap (a, b):
 * xPad[:, a + s·i, b + s·j, :] for all i < outH, j < outW. Returns a function of (a, b).
 *
 * wasm's StridedSlice is a slow generic loop (it was half of a training step), so strided taps are
 * cut from s×s polyphase components instead: one reshape turns xPad into [n·H/s, s, W/s, s·c], each
 * phase (a mod s, b mod s) is a plain 4-D Slice of that, and each tap a plain Slice of its phase.
 */
function tapSlicer(xPad: tf.Tensor4D, sh: number, sw: number, outH: number, outW: number): (a: number, b: number) => tf.Tensor4D {
  const [n, hp, wp, c] = xPad.shape;
  if (sh === 1 && sw === 1) {
    return (a, b) => (a === 0 && b === 0 && outH === hp && outW === wp ? xPad : tf.slice(xPad, [0, a, b, 0], [n, outH, outW, c]));
  }
  const hq = Math.ceil(hp / sh);
  const wq = Math.ceil(wp / sw);
  const even = hq * sh === hp && wq * sw === wp ? xPad : tf.pad(xPad, [[0, 0], [0, hq * sh - hp], [0, wq * sw - wp], [0, 0]]);
  const grouped = tf.reshape(even, [n * hq, sh, wq, sw * c]);
  // All phases up front, in the caller's scope: the per-tap tidies must not dispose them.
  const phases: tf.Tensor4D[] = [];
  for (let p = 0; p < sh; p++) {
    for (let q = 0; q < sw; q++) phases.push(tf.reshape(tf.slice(grouped, [0, p, 0, q * c], [n * hq, 1, wq, c]), [n, hq, wq, c]));
  }
  const phase = (p: number, q: number): tf.Tensor4D => phases[p * sw + q] as tf.Tensor4D;
  return (a, b) => {
    const ph = phase(a % sh, b % sw);
    const r0 = Math.floor(a / sh);
    const c0 = Math.floor(b / sw);
    return r0 === 0 && c0 === 0 && outH === hq && outW === wq ? ph : tf.slice(ph, [0, r0, c0, 0], [n, outH, outW, c]);
  };
}

function padInput(x: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const p = info.padInfo;
  // Bottom/right padding may be larger than needed for the last tap; trailing rows beyond the
  // last window are never read because the tap slices stop at the last output pixel.
  if (p.top === 0 && p.bottom === 0 && p.left === 0 && p.right === 0) return x;
  return tf.pad(x, [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]]);
}

/** dL/dW of a regular conv: Σ_{n,i,j} xPad[n, s·i+a, s·j+b, ci] · dy[n, i, j, co]. */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number], attrs: ConvAttrs): tf.Tensor4D {
  checkAttrs('Conv2D', attrs);
  return tf.tidy(() => {
    const info = geometry(x.shape, filterShape, attrs, false);
    const [kh, kw, ci, co] = filterShape;
    const dy2 = tf.reshape(dy, [-1, co]);
    const tap = tapSlicer(padInput(x, info), info.strideHeight, info.strideWidth, info.outHeight, info.outWidth);
    const taps: tf.Tensor[] = [];
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        // One tidy per tap: the patch is as large as x, and keeping k² of them alive at once is what
        // pushed the wasm heap past 2 GB (its JS glue breaks above that) in a batch-64 supernet step.
        taps.push(tf.tidy(() => {
          const patch = tf.reshape(tap(a, b), [-1, ci]);
          return tf.matMul(patch, dy2, true, false);
        }));
      }
    }
    return tf.reshape(taps.length === 1 ? (taps[0] as tf.Tensor) : tf.stack(taps), [kh, kw, ci, co]);
  });
}

/** dL/dW of a depthwise conv with channel multiplier m: Σ_{n,i,j} xPad[n, s·i+a, s·j+b, c] · dy[n, i, j, c·m + q]. */
export function depthwiseFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number], attrs: ConvAttrs): tf.Tensor4D {
  checkAttrs('DepthwiseConv2dNative', attrs);
  return tf.tidy(() => {
    const info = geometry(x.shape, filterShape, attrs, true);
    const [kh, kw, c, m] = filterShape;
    const [n, oh, ow] = [dy.shape[0], dy.shape[1], dy.shape[2]];
    const dy5 = m === 1 ? dy : tf.reshape(dy, [n, oh, ow, c, m]);
    const tap = tapSlicer(padInput(x, info), info.strideHeight, info.strideWidth, oh, ow);
    const taps: tf.Tensor[] = [];
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        taps.push(tf.tidy(() => {
          const patch = tap(a, b);
          if (m !== 1) return tf.sum(tf.mul(tf.reshape(patch, [n, oh, ow, c, 1]), dy5), [0, 1, 2]);
          // Σ over n, i, j as a ones-vector matmul: wasm's Sum over leading axes transposes first.
          const rows = n * oh * ow;
          return tf.reshape(tf.matMul(tf.ones([1, rows]), tf.reshape(tf.mul(patch, dy), [rows, c])), [c]);
        }));
      }
    }
    return tf.reshape(tf.stack(taps), [kh, kw, c, m]);
  });
}

/**
 * dL/dx of a depthwise conv: a stride-1 'valid' depthwise conv of the zero-dilated, padded dy with the
 * spatially flipped filter. With stride s, dy is dilated by s−1 zeros; the padding makes the full
 * correlation line up with the forward padding (left = k−1−top, right = padded size − dilated size − bottom).
 */
export function depthwiseInputGrad(xShape: number[], filter: tf.Tensor4D, dy: tf.Tensor4D, attrs: ConvAttrs): tf.Tensor4D {
  checkAttrs('DepthwiseConv2dNative', attrs);
  return tf.tidy(() => {
    const info = geometry(xShape, filter.shape, attrs, true);
    const [kh, kw, c, m] = filter.shape;
    const [n, oh, ow] = [dy.shape[0], dy.shape[1], dy.shape[2]];
    const sh = info.strideHeight;
    const sw = info.strideWidth;
    let d: tf.Tensor4D = dy;
    if (sh > 1 || sw > 1) {
      const d6 = tf.pad(tf.reshape(dy, [n, oh, 1, ow, 1, c * m]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
      const full = tf.reshape(d6, [n, oh * sh, ow * sw, c * m]);
      d = tf.slice(full, [0, 0, 0, 0], [n, (oh - 1) * sh + 1, (ow - 1) * sw + 1, c * m]) as tf.Tensor4D;
    }
    const p = info.padInfo;
    const inH = info.inHeight;
    const inW = info.inWidth;
    const padTop = kh - 1 - p.top;
    const padLeft = kw - 1 - p.left;
    const padBottom = inH + p.top + p.bottom - d.shape[1] - p.bottom;
    const padRight = inW + p.left + p.right - d.shape[2] - p.right;
    // Negative amounts mean "crop"; pad with the positive parts then slice.
    const padded = tf.pad(d, [[0, 0], [Math.max(0, padTop), Math.max(0, padBottom)], [Math.max(0, padLeft), Math.max(0, padRight)], [0, 0]]);
    const cropped = tf.slice(padded, [0, Math.max(0, -padTop), Math.max(0, -padLeft), 0],
      [n, padded.shape[1] - Math.max(0, -padTop) - Math.max(0, -padBottom), padded.shape[2] - Math.max(0, -padLeft) - Math.max(0, -padRight), c * m]) as tf.Tensor4D;
    const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, c * m, 1]) as tf.Tensor4D;
    const out = tf.depthwiseConv2d(cropped, flipped, 1, 'valid');
    return m === 1 ? out : tf.sum(tf.reshape(out, [n, inH, inW, c, m]), 4);
  });
}

function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** Our registered gradient configs: loading another tfjs bundle (tfjs-node pulls in @tensorflow/tfjs)
 * re-registers the stock ones over them, so "installed" is checked by identity, not by a flag. */
let ours: { conv: tf.GradConfig; depthwise: tf.GradConfig } | undefined;

/**
 * Registers the Conv2D and DepthwiseConv2dNative gradients so that they work on backends without
 * the backprop kernels, delegating to tfjs' stock gradient where the kernels exist. Idempotent, and
 * safe to call again after something re-registered the stock gradients.
 */
export function installConvGradients(): void {
  if (ours && tf.getGradient(tf.Conv2D) === ours.conv && tf.getGradient(tf.DepthwiseConv2dNative) === ours.depthwise) return;
  const stockConv = tf.getGradient(tf.Conv2D);
  const stockDepthwise = tf.getGradient(tf.DepthwiseConv2dNative);
  if (stockConv === undefined || stockDepthwise === undefined) {
    throw new Error('tfjs-core gradients are not registered: import @tensorflow/tfjs-layers before installConvGradients()');
  }
  tf.registerGradient({
    kernelName: tf.Conv2D,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      if (hasKernel('Conv2DBackpropFilter')) return stockConv.gradFunc(dy, saved, attrs);
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as ConvAttrs;
      const g = dy as tf.Tensor4D;
      const [sh, sw] = pair(a.strides, 1);
      const pointwise = filter.shape[0] === 1 && filter.shape[1] === 1 && sh === 1 && sw === 1;
      return {
        // A 1×1 stride-1 conv is a matmul over pixels; its input gradient is dy·Wᵀ (faster than the
        // generic Conv2DBackpropInput kernel on wasm).
        x: () => pointwise
          ? tf.reshape(tf.matMul(tf.reshape(g, [-1, filter.shape[3]]), tf.reshape(filter, [filter.shape[2], filter.shape[3]]), false, true), x.shape)
          : tf.conv2dTranspose(g, filter, x.shape, a.strides, a.pad as 'same' | 'valid' | number, a.dimRoundingMode),
        filter: () => conv2dFilterGrad(x, g, filter.shape, a),
      };
    },
  });
  tf.registerGradient({
    kernelName: tf.DepthwiseConv2dNative,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      if (hasKernel('DepthwiseConv2dNativeBackpropFilter') && hasKernel('DepthwiseConv2dNativeBackpropInput')) {
        return stockDepthwise.gradFunc(dy, saved, attrs);
      }
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as ConvAttrs;
      const g = dy as tf.Tensor4D;
      return {
        x: () => depthwiseInputGrad(x.shape, filter, g, a),
        filter: () => depthwiseFilterGrad(x, g, filter.shape, a),
      };
    },
  });
  ours = { conv: tf.getGradient(tf.Conv2D)!, depthwise: tf.getGradient(tf.DepthwiseConv2dNative)! };
}
