/** metadata.json of an exported model, and choosing the model to export (pure parts of `scalenet export`). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../../cli/errors';
import { buildModelMetadata, classNames, exportableModels, findModel, MODEL_METADATA_FORMAT } from '../../../report/model-export';
import { reportFixture } from './fixture';

const results = reportFixture().results;
const sha = (c: string) => ({ sha256: c.repeat(64), bytes: 10, source: { bucket: 'b-b', key: 'k', sha256: c.repeat(64), bytes: 10 } });
const equivalence = { reference: 'engine', images: 32, tolerance: 1e-4, maxAbsDiff: { tfjs: 1e-7, onnx: 2e-7 } };
const data = { imageShape: [28, 28, 1] as [number, number, number], classes: 10, train: [], counts: { train: 59_872, minival: 128, test: 10_000 } };

describe('choosing the model to export', () => {
  it('lists the retrained models with a stored model, searched, extrapolated and baselines', () => {
    assert.deepEqual(exportableModels(results), ['S0', 'S1', 'S2', 'S3', 'B1', 'B2', 'B3']);
  });

  it('finds a model by name, ignoring case', () => {
    assert.equal(findModel(results, 's2').model, 'S2');
  });

  it('refuses an unknown name with a usage error that lists the available ones', () => {
    assert.throws(() => findModel(results, 'S9'), (err: Error) => err instanceof UsageError && /"S9".*available: S0, S1, S2, S3, B1, B2, B3/.test(err.message));
    const noModel = { ...results, family: results.family.map((f) => (f.model === 'S1' ? { ...f, model_json: null } : f)) };
    assert.throws(() => findModel(noModel, 'S1'), /available: S0, S2, S3/);
  });
});

describe('model metadata', () => {
  const row = findModel(results, 'S2');
  const m = buildModelMetadata({
    results, row, data, normalization: { mean: [0.286], std: [0.353] },
    files: { 'model.json': sha('a'), 'weights.bin': sha('b') }, equivalence, now: new Date('2026-01-02T00:00:00Z'),
  });

  it('describes the architecture, cost, accuracy and origin of the model', () => {
    assert.equal(m.format, MODEL_METADATA_FORMAT);
    assert.deepEqual([m.model, m.kind, m.level, m.runId, m.configHash], ['S2', 'searched', 2, results.runId, results.configHash]);
    assert.deepEqual(m.architecture, { space: 'tiny', stages: results.base, depth: row.depth, width: row.width, resolution: row.resolution });
    assert.deepEqual([m.macs, m.params], [row.macs, row.params]);
    assert.deepEqual(m.accuracy, { test: row.retrainedAccuracy, testImages: 256, supernetMinival: row.supernetAccuracy, baselineTest: row.baselineAccuracy });
    assert.equal(m.files['weights.bin']?.sha256, 'b'.repeat(64));
    assert.equal(m.exportedAt, '2026-01-02T00:00:00.000Z');
  });

  it('states each format\'s layout and how to load it, and the equivalence check it passed', () => {
    const r = row.resolution;
    assert.deepEqual(m.formats.tfjs?.inputShape, ['batch', r, r, 1]);
    assert.equal(m.formats.tfjs?.layout, 'NHWC');
    assert.deepEqual(m.formats.onnx?.inputShape, ['batch', 1, r, r]);
    assert.deepEqual([m.formats.onnx?.layout, m.formats.onnx?.opset, m.formats.onnx?.inputName, m.formats.onnx?.outputName], ['NCHW', 14, 'image', 'logits']);
    assert.deepEqual(m.equivalence, equivalence);
  });

  it('says how to feed it: input shape at the model resolution, normalisation of the training split, resize', () => {
    assert.deepEqual(m.input.shape, [row.resolution, row.resolution, 1]);
    assert.deepEqual(m.input.datasetImageShape, [28, 28, 1]);
    assert.deepEqual([m.input.normalization.mean, m.input.normalization.std], [[0.286], [0.353]]);
    assert.match(m.input.normalization.source, /training split \(59872 images/);
    assert.ok(row.resolution !== 28, 'S2 of the fixture runs above the dataset resolution');
    assert.match(m.input.preprocessing, new RegExp(`from 28×28 to ${row.resolution}×${row.resolution}`));
    assert.equal(m.output.classes, 10);
    assert.equal(m.output.labels?.[9], 'Ankle boot');
  });

  it('needs no resize at the dataset resolution, and has no baseline accuracy for a baseline', () => {
    const s0 = buildModelMetadata({ results, row: findModel(results, 'S0'), data, normalization: { mean: [0], std: [1] }, files: { 'model.json': sha('a'), 'weights.bin': sha('b') }, equivalence });
    assert.match(s0.input.preprocessing, /no resize/);
    const b1 = buildModelMetadata({ results, row: findModel(results, 'B1'), data, normalization: { mean: [0], std: [1] }, files: { 'model.json': sha('a'), 'weights.bin': sha('b') }, equivalence });
    assert.equal(b1.accuracy.baselineTest, null);
  });

  it('names the classes: an image folder\'s sub-folders, Fashion-MNIST\'s names, otherwise "0".."N-1"', () => {
    const imageFolder = { classNames: ['cat', 'dog'], channels: 3 as const, normalization: { mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.2] }, skipped: [], skippedCount: 0 };
    assert.deepEqual(classNames('image-folder', { classes: 2, imageFolder }), ['cat', 'dog']);
    assert.equal(classNames('fashion-mnist', { classes: 10 })[0], 'T-shirt/top');
    assert.deepEqual(classNames('synthetic', { classes: 3 }), ['0', '1', '2']);
    const folder = buildModelMetadata({ results, row, data: { ...data, classes: 2, imageFolder }, normalization: imageFolder.normalization, files: { 'model.json': sha('a'), 'weights.bin': sha('b') }, equivalence });
    assert.deepEqual(folder.output.labels, ['cat', 'dog']);
    // Files of any size are decoded straight to the model resolution, as the workers evaluate them.
    assert.deepEqual(folder.input.decode, { shorterSide: Math.round(row.resolution / 0.875), crop: row.resolution });
    assert.deepEqual(folder.input.datasetImageShape, [row.resolution, row.resolution, 3]);
    assert.match(folder.input.preprocessing, /shorter side/);
  });
});
