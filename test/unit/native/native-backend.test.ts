import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { TF_WHEEL_VERSION } from '../../../infra/native-tf/config';
import { EQUIVALENCE_TOLERANCE, compareBackends, equivalenceCases } from '../../../infra/native-tf/equivalence';
import { loadNativeBackend } from '../../../infra/native-tf/load';
import { installConvGradients } from '../../../nn/gradients';

// The native backend is optional (issue 7): absent means skipped; installed but broken means failed.
const loaded = loadNativeBackend();
const skip = !loaded.ok && !loaded.installed ? `native TensorFlow backend not installed: ${loaded.reason}` : false;

function assertLoaded(): void {
  if (!loaded.ok) assert.fail(loaded.reason);
}

test('tfjs-node registers the tensorflow backend in the project\'s single tfjs-core, on the pinned TensorFlow', { skip }, async () => {
  assertLoaded();
  assert.ok(await tf.setBackend('tensorflow'));
  assert.equal(tf.getBackend(), 'tensorflow');
  assert.equal(loaded.ok && loaded.tfVersion, TF_WHEEL_VERSION);
});

test('the native backend has the conv backprop kernels, so the engine\'s gradients delegate to them', { skip }, () => {
  assertLoaded();
  for (const k of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']) {
    assert.ok(tf.getKernel(k, 'tensorflow') !== undefined, `kernel ${k} missing on 'tensorflow'`);
  }
});

test(`every supernet op and its gradients agree with cpu within ${EQUIVALENCE_TOLERANCE} relative`, { skip }, async () => {
  assertLoaded();
  for (const r of await compareBackends('tensorflow', 'cpu')) {
    assert.ok(r.maxRelErr <= EQUIVALENCE_TOLERANCE, `${r.name}: relative error ${r.maxRelErr} vs cpu`);
  }
});

test('with the engine\'s conv gradients installed, conv and depthwise gradients still agree with cpu', { skip }, async () => {
  assertLoaded();
  installConvGradients();
  const convCases = equivalenceCases().filter((c) => /conv|block|sliced/i.test(c.name));
  assert.ok(convCases.length >= 6);
  for (const r of await compareBackends('tensorflow', 'cpu', convCases)) {
    assert.ok(r.maxRelErr <= EQUIVALENCE_TOLERANCE, `${r.name}: relative error ${r.maxRelErr} vs cpu`);
  }
});

test('a training step on the native backend leaves no tensors behind', { skip }, async () => {
  assertLoaded();
  await tf.setBackend('tensorflow');
  const w = tf.variable(tf.randomNormal([3, 3, 2, 4], 0, 0.1, 'float32', 1));
  const x = tf.randomNormal([4, 8, 8, 2], 0, 1, 'float32', 2);
  const step = () => tf.tidy(() => {
    const { grads } = tf.variableGrads(() => tf.mean(tf.square(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'))) as tf.Scalar, [w]);
    w.assign(tf.sub(w, tf.mul(grads[w.name] as tf.Tensor, 0.1)));
  });
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([w, x]);
});
