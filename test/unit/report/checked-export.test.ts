/**
 * The export's equivalence check and `scalenet predict`, without servers: a micro network written in
 * both formats passes the check against the engine and is committed with the measured differences; a
 * check beyond tolerance fails with the largest difference and leaves nothing behind; `predict` on PNG
 * files prints the engine's top-1 classes with both formats.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { modelArtifacts } from '../../../activities/export-model';
import { scaleNetwork } from '../../../core/scaling';
import { batchToTensor } from '../../../data';
import { weightsOfModel } from '../../../nn/layers';
import { buildOnnxModel } from '../../../nn/onnx';
import { engineLogits } from '../../../nn/reference';
import { compareWithEngine, ExportCheckError, writeCheckedExport } from '../../../report/export-check';
import { rawImages, type ModelMetadata } from '../../../report/model-export';
import { argMax } from '../../../report/predict-exported';
import { randomisedModel } from '../../helpers/stock-tfjs';
import { repoRoot } from '../../helpers/env';
import { microData, microSpace } from '../nn/helpers';

const LABELS = ['zero', 'one', 'two', 'three'];

describe('checked export and predict', () => {
  const net = scaleNetwork(microSpace(), { stages: [[5], [3, 5], [5, 3]], depth: 1.5, width: 1.25, resolution: 16 });
  const data = microData();
  const raw = rawImages(data.test, 10);
  let work: string;
  let files: Record<string, Uint8Array>;
  let reference: Float32Array;
  let meta: ModelMetadata;

  before(async () => {
    await tf.setBackend('cpu');
    work = await mkdtemp(join(tmpdir(), 'scalenet-checked-'));
    const model = randomisedModel(net);
    const weights = weightsOfModel(model, net);
    const { json, weights: bin } = await modelArtifacts(model);
    files = { 'model.json': json, 'weights.bin': bin, 'model.onnx': buildOnnxModel(net, weights) };
    const per = data.test.height * data.test.width;
    const x = batchToTensor({ ...data.test, images: data.test.images.subarray(0, 10 * per), labels: data.test.labels.subarray(0, 10), count: 10 }, data.normalization, 16);
    const y = engineLogits(net, weights, x);
    reference = (await y.data()) as Float32Array;
    tf.dispose([x, y]);
    weights.dispose();
    model.dispose();
    // Only the fields the loaders and predict read.
    meta = {
      model: 'S1',
      input: { shape: [16, 16, 1], datasetImageShape: [12, 12, 1], normalization: { ...data.normalization, source: 'test' } },
      output: { classes: 4, labels: LABELS },
    } as unknown as ModelMetadata;
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('writes both formats only after they match the engine, with the differences in metadata.json', async () => {
    const out = join(work, 'ok');
    const r = await writeCheckedExport({
      outDir: out, files, formats: ['tfjs', 'onnx'],
      check: async (staging) => {
        await writeFile(join(staging, 'metadata.json'), JSON.stringify(meta));
        return compareWithEngine(staging, ['tfjs', 'onnx'], raw, reference);
      },
      metadata: (diffs) => JSON.stringify({ ...meta, equivalence: { maxAbsDiff: diffs } }),
    });
    assert.deepEqual((await readdir(out)).sort(), ['metadata.json', 'model.json', 'model.onnx', 'weights.bin']);
    const written = JSON.parse(await readFile(join(out, 'metadata.json'), 'utf8')) as { equivalence: { maxAbsDiff: Record<string, number> } };
    assert.deepEqual(written.equivalence.maxAbsDiff, r.diffs);
    console.log(`checked export on 10 images: max |Δlogit| tfjs ${r.diffs.tfjs?.toExponential(2)}, onnx ${r.diffs.onnx?.toExponential(2)}`);
    for (const d of Object.values(r.diffs)) assert.ok(d < 1e-4);
  });

  it('fails a check beyond tolerance with the largest difference and deletes the partial output', async () => {
    const out = join(work, 'bad');
    await assert.rejects(
      writeCheckedExport({ outDir: out, files, formats: ['tfjs', 'onnx'], check: async () => ({ tfjs: 1e-7, onnx: 0.25 }), metadata: () => '{}' }),
      (err: Error) => err instanceof ExportCheckError && err.format === 'onnx' && /up to 2\.500e-1 \(tolerance 0\.0001\)/.test(err.message),
    );
    assert.deepEqual(await readdir(out), []);
  });

  it('`scalenet predict` on PNG files prints the engine\'s top-1 class names with either format', async () => {
    const dir = join(work, 'ok');
    const images = join(work, 'images');
    await mkdir(images, { recursive: true });
    const per = 12 * 12;
    for (let i = 0; i < 10; i++) {
      await sharp(Buffer.from(data.test.images.subarray(i * per, (i + 1) * per)), { raw: { width: 12, height: 12, channels: 1 } }).png().toFile(join(images, `img${i}.png`));
    }
    const classes = 4;
    const engineTop1 = Array.from({ length: 10 }, (_, i) => LABELS[argMax(Array.from(reference.subarray(i * classes, (i + 1) * classes)))]);
    for (const format of ['tfjs', 'onnx']) {
      const out = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, [join(repoRoot, 'bin', 'scalenet.js'), 'predict', dir, images, '--format', format, '--json', ...(format === 'onnx' ? ['--benchmark'] : [])], { cwd: repoRoot }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)));
      });
      const r = JSON.parse(out) as { format: string; predictions: { file: string; top: { label: string }[] }[]; benchmark?: { ms: number; threads: number } };
      assert.equal(r.format, format);
      assert.deepEqual(r.predictions.map((p) => p.top[0]!.label), engineTop1, `${format} top-1`);
      if (format === 'onnx') assert.ok(r.benchmark && r.benchmark.ms > 0 && r.benchmark.threads === 1);
    }
  });
});
