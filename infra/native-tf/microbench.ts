/**
 * Quick conv-heavy training-step microbenchmark across tfjs backends, to decide whether the native build is worth
 * its setup (issue 7). Not the project benchmark (bench/): one fixed MobileNetV2-like net on 28×28×1 inputs.
 *
 *   npx tsx infra/native-tf/microbench.ts [--backends tensorflow,wasm,cpu] [--batch 64] [--seconds 4]
 *
 * TensorFlow uses every core by default; `TF_NUM_INTRAOP_THREADS=1` (read when TensorFlow starts) gives the
 * single-thread figure to set next to wasm, which runs on one thread in Node.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { installConvGradients } from '../../nn/gradients';
import { loadNativeBackend } from './load';

interface Args { backends: string[]; batch: number; seconds: number }

function parseArgs(argv: string[]): Args {
  const get = (flag: string, dflt: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] as string : dflt;
  };
  const args = { backends: get('--backends', 'tensorflow,wasm,cpu').split(','), batch: Number(get('--batch', '64')), seconds: Number(get('--seconds', '4')) };
  if (!(args.batch > 0) || !(args.seconds > 0)) throw new Error('--batch and --seconds must be positive numbers');
  return args;
}

/** [kind, kernel, cin, cout|multiplier, stride]: stem, then three inverted residual blocks (expand, depthwise, project). */
const layers: Array<['conv' | 'dw', number, number, number, number]> = [
  ['conv', 3, 1, 16, 1],
  ['dw', 3, 16, 1, 1], ['conv', 1, 16, 16, 1],
  ['conv', 1, 16, 64, 1], ['dw', 3, 64, 1, 2], ['conv', 1, 64, 24, 1],
  ['conv', 1, 24, 96, 1], ['dw', 5, 96, 1, 2], ['conv', 1, 96, 48, 1],
];

function makeParams(): tf.Variable[] {
  const vs = layers.map(([kind, k, cin, cout], i) => tf.variable(tf.randomNormal([k, k, cin, kind === 'dw' ? 1 : cout], 0, Math.sqrt(2 / (k * k * (kind === 'dw' ? 1 : cin))), 'float32', i), true, `w${i}`));
  vs.push(tf.variable(tf.randomNormal([48, 10], 0, 0.1, 'float32', 99), true, 'fc'));
  return vs;
}

function forward(params: tf.Variable[], x: tf.Tensor4D): tf.Tensor2D {
  let h = x;
  layers.forEach(([kind, , , , stride], i) => {
    const w = params[i] as tf.Tensor4D;
    const y = kind === 'dw' ? tf.depthwiseConv2d(h, w, stride, 'same') : tf.conv2d(h, w, stride, 'same');
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    const bn = tf.div(tf.sub(y, mean), tf.sqrt(tf.add(variance, 1e-5)));
    const last = i % 3 === 2; // projections stay linear
    h = (last ? bn : tf.mul(bn, tf.div(tf.relu6(tf.add(bn, 3)), 6))) as tf.Tensor4D;
  });
  return tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, params[params.length - 1] as tf.Tensor2D);
}

function loss(params: tf.Variable[], x: tf.Tensor4D, labels: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(forward(params, x))), -1))) as tf.Scalar;
}

/** Runs `step` for at least `seconds` (and 3 times) after 2 warm-up calls; returns steps per second. */
function rate(step: () => void, seconds: number): number {
  step();
  step();
  const t0 = performance.now();
  let n = 0;
  while (n < 3 || performance.now() - t0 < seconds * 1000) {
    step();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

async function benchBackend(name: string, a: Args): Promise<{ train: number; infer: number }> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to initialise`);
  const params = makeParams();
  const x = tf.randomNormal([a.batch, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: a.batch }, (_, i) => i % 10), 'int32'), 10) as tf.Tensor2D;
  const opt = tf.train.sgd(0.01);
  const train = rate(() => tf.tidy(() => {
    const { grads } = tf.variableGrads(() => loss(params, x, labels), params);
    opt.applyGradients(grads);
    (params[0] as tf.Variable).dataSync(); // wait for the step, on every backend
  }), a.seconds);
  const infer = rate(() => tf.tidy(() => void forward(params, x).dataSync()), a.seconds / 2);
  tf.dispose([...params, x, labels]);
  opt.dispose();
  return { train: train * a.batch, infer: infer * a.batch };
}

async function run(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.backends.includes('tensorflow')) {
    const loaded = loadNativeBackend();
    if (!loaded.ok) throw new Error(loaded.reason);
  }
  // After loading tfjs-node: its @tensorflow/tfjs bundle re-registers tfjs' stock gradients, which would replace
  // these (wasm lacks the conv backprop kernels, DESIGN §6).
  installConvGradients();
  const threads = process.env.TF_NUM_INTRAOP_THREADS ?? 'all cores';
  const results: Record<string, { train: number; infer: number }> = {};
  for (const b of a.backends) {
    results[b] = await benchBackend(b, a);
    const r = results[b];
    console.log(`${b.padEnd(10)} train ${r.train.toFixed(1).padStart(8)} img/s   infer ${r.infer.toFixed(1).padStart(8)} img/s${b === 'tensorflow' ? `   (TF intra-op threads: ${threads})` : ''}`);
  }
  const nat = results.tensorflow;
  if (nat) {
    for (const b of a.backends.filter((n) => n !== 'tensorflow')) {
      const r = results[b];
      if (r) console.log(`tensorflow / ${b}: train ${(nat.train / r.train).toFixed(1)}×, infer ${(nat.infer / r.infer).toFixed(1)}×`);
    }
  }
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
