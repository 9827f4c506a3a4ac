/**
 * The deployable formats of a standalone network, each checked against the engine (the BN-folded
 * functional forward pass that scores models): the stock TF.js layers model loaded by a Node process
 * that imports nothing of this project and by headless Chromium, and the ONNX model in ONNX Runtime;
 * plus the ONNX graph's structural validity (the checker rules that matter for loading it anywhere).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { onnx } from 'onnx-proto';
import { scaleNetwork } from '../../../core/scaling';
import { batchToTensor, sequentialBatches } from '../../../data';
import { exportModel } from '../../../nn/io';
import { buildFromNetwork, weightsOfModel } from '../../../nn/layers';
import { ONNX_OPSET, buildOnnxModel, samePadding } from '../../../nn/onnx';
import { onnxLatency, onnxLogits, onnxSession } from '../../../nn/onnx-runtime';
import { engineLogits, maxAbsDiff } from '../../../nn/reference';
import { chromeLogits, randomisedModel, stockNodeLogits } from '../../helpers/stock-tfjs';
import { describeOnEngineBackends, microData, microSpace } from './helpers';

const TOLERANCE = 1e-4;

describeOnEngineBackends((backend) => {
  const net = scaleNetwork(microSpace(), { stages: [[5], [3, 5], [5, 3]], depth: 1.5, width: 1.25, resolution: 16 });
  let model: tfl.LayersModel;
  let weights: ReturnType<typeof weightsOfModel>;
  let x: tf.Tensor4D;
  let reference: Float32Array;
  let work: string;

  before(async () => {
    model = randomisedModel(net);
    weights = weightsOfModel(model, net);
    const data = microData();
    const batch = sequentialBatches(data.test, 32).next().value!;
    x = batchToTensor(batch, data.normalization, net.input.resolution);
    const y = engineLogits(net, weights, x);
    reference = (await y.data()) as Float32Array;
    y.dispose();
    work = await mkdtemp(join(tmpdir(), 'scalenet-formats-'));
  });
  after(async () => {
    tf.dispose(x);
    weights.dispose();
    model.dispose();
    await rm(work, { recursive: true, force: true });
  });

  test('the layers model uses stock tfjs-layers classes only, and a Node process that never imports this project reproduces the engine on 32 images', async () => {
    const dir = join(work, `tfjs-${backend}`);
    await exportModel(model, dir);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { modelTopology: { config: { layers: { class_name: string }[] } } };
    const classes = new Set(json.modelTopology.config.layers.map((l) => l.class_name));
    for (const c of classes) assert.doesNotMatch(c, /ScaleNet/, `custom layer class ${c}`);
    const out = await stockNodeLogits(dir, x);
    const diff = maxAbsDiff(out, reference);
    console.log(`stock tfjs (node, ${backend} engine): max |Δlogit| ${diff.toExponential(2)} over ${x.shape[0]} images`);
    assert.ok(diff < TOLERANCE, `max |Δ| ${diff}`);
  });

  test('headless Chromium loads the layers model with stock tfjs over HTTP and reproduces the engine on 32 images', { skip: existsSync('/usr/bin/chromium') ? false : '/usr/bin/chromium is missing: run report/setup-chromium.sh' }, async () => {
    const dir = join(work, `tfjs-${backend}-web`);
    await exportModel(model, dir);
    const out = await chromeLogits(dir, x);
    const diff = maxAbsDiff(out, reference);
    console.log(`stock tfjs (chromium, ${backend} engine): max |Δlogit| ${diff.toExponential(2)}`);
    assert.ok(diff < TOLERANCE, `max |Δ| ${diff}`);
  });

  test('the ONNX model (NCHW, BN folded) reproduces the engine in onnxruntime-node on 32 images', async () => {
    const bytes = buildOnnxModel(net, weights);
    const session = await onnxSession(bytes, 2);
    const nchw = tf.tidy(() => tf.transpose(x, [0, 3, 1, 2]));
    const out = await onnxLogits(session, (await nchw.data()) as Float32Array, nchw.shape as [number, number, number, number]);
    nchw.dispose();
    await session.release();
    const diff = maxAbsDiff(out, reference);
    console.log(`onnxruntime (${backend} engine): max |Δlogit| ${diff.toExponential(2)}`);
    assert.ok(diff < TOLERANCE, `max |Δ| ${diff}`);
    await writeFile(join(work, 'model.onnx'), bytes);
    const latency = await onnxLatency(bytes, net.input.channels, net.input.resolution, { runs: 3 });
    assert.equal(latency.threads, 1);
    assert.ok(latency.ms > 0 && Number.isFinite(latency.ms));
  });
});

test('the ONNX graph declares its opset, defines every node input before use, and types every initialiser', async () => {
  await tf.setBackend('cpu');
  const net = scaleNetwork(microSpace(), { stages: [[5], [3, 5], [5, 3]], depth: 1, width: 1, resolution: 12 });
  const model = buildFromNetwork(net);
  const weights = weightsOfModel(model, net);
  const m = onnx.ModelProto.decode(buildOnnxModel(net, weights));
  weights.dispose();
  model.dispose();
  assert.deepEqual(m.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', ONNX_OPSET]]);
  assert.ok(Number(m.irVersion) >= 7);
  const g = m.graph as onnx.GraphProto;
  const inits = g.initializer as onnx.TensorProto[];
  const defined = new Set<string>([...g.input.map((i) => i.name ?? ''), ...inits.map((i) => i.name)]);
  for (const init of inits) {
    assert.equal(init.dataType, onnx.TensorProto.DataType.FLOAT, `${init.name} is float32`);
    const n = init.dims.reduce((a: number, d) => a * Number(d), 1);
    assert.ok(n > 0 && init.floatData.length === n, `${init.name}: ${init.floatData.length} values for dims ${init.dims.join('×')}`);
  }
  const names = new Set<string>();
  for (const node of g.node as onnx.NodeProto[]) {
    for (const i of node.input) assert.ok(defined.has(i), `node ${node.name} (${node.opType}) reads "${i}" before it is defined`);
    for (const o of node.output) {
      assert.ok(!defined.has(o), `"${o}" is assigned twice`);
      defined.add(o);
    }
    assert.ok(!names.has(node.name), `node name ${node.name} is unique`);
    names.add(node.name);
  }
  for (const o of g.output as onnx.ValueInfoProto[]) assert.ok(defined.has(o.name), `graph output ${o.name} is produced`);
  assert.deepEqual(g.input.map((i) => i.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue))), [['batch', 1, 12, 12]]);
  const ops = new Set(g.node.map((n) => n.opType));
  assert.deepEqual([...ops].sort(), ['Add', 'Conv', 'Flatten', 'Gemm', 'GlobalAveragePool', 'HardSigmoid', 'HardSwish', 'Identity', 'Mul', 'Relu'].filter((o) => o !== 'Add' || net.blocks.some((b) => b.residual)));
  assert.ok(!ops.has('BatchNormalization'), 'BN is folded');
});

test('TensorFlow "same" padding puts the extra pixel after', () => {
  assert.deepEqual(samePadding(12, 3, 2), [0, 1]);
  assert.deepEqual(samePadding(11, 3, 2), [1, 1]);
  assert.deepEqual(samePadding(8, 5, 1), [2, 2]);
});
