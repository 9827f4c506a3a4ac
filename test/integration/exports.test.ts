/**
 * Exported models are fenced like checkpoints (issue 12): attempts that export the same model at once, or a
 * zombie that exports after its retry committed, never leave a model.json of one attempt next to the weights of
 * another; readers go through the committed manifest and refuse one written for another config.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { ResultRow, RunResults } from '../../activities/records';
import type { ObjectRef } from '../../core/refs';
import { storedModelFiles } from '../../report/model-export';
import { ConfigMismatchError } from '../../storage/checkpoints';
import { IntegrityError } from '../../storage/errors';
import { ExportStore, loadExport } from '../../storage/exports';
import { objectKey, type ArtifactStore } from '../../storage/store';
import { skipWithoutServers, testStore, uniqueId } from '../helpers/env';

/** The files one attempt exports: model.json names its attempt, so a mixed pair is visible. */
const filesOf = (attempt: number) => ({
  'model.json': Buffer.from(JSON.stringify({ attempt, weightsManifest: [{ paths: ['weights.bin'] }] })),
  'weights.bin': Buffer.alloc(64 * 1024, attempt),
});

describe('export fencing on a real MinIO', { skip: skipWithoutServers }, () => {
  let store: ArtifactStore;
  before(async () => {
    store = await testStore();
  });

  it('a conditional write lands once: the second writer of a key gets null and the first one\'s object stays', async () => {
    const key = objectKey(uniqueId('cond'), 'export.json');
    assert.ok(await store.putJsonIfAbsent(key, { writer: 1 }));
    assert.equal(await store.putJsonIfAbsent(key, { writer: 2 }), null);
    assert.deepEqual(await store.getJson(await store.refOf(key)), { writer: 1 });
  });

  it('attempts exporting at once agree on one committed export whose files all come from the same attempt', async () => {
    const runId = uniqueId('exp-race');
    for (let round = 0; round < 8; round++) {
      const model = `S${round}`;
      const attempts = [1, 2, 3];
      const results = await Promise.all(attempts.map((attempt) => new ExportStore(store, runId, model).commit({ configHash: 'cfg', attempt, files: filesOf(attempt) })));
      const [first] = results;
      for (const r of results) assert.deepEqual(r.manifestRef, first!.manifestRef, 'every attempt reports the committed manifest');
      assert.equal(results.filter((r) => !r.reused).length, 1, 'exactly one attempt\'s export is the committed one');
      const { manifest, files } = await loadExport(store, first!.manifestRef, 'cfg');
      const winner = manifest.attempt;
      assert.deepEqual(files['model.json'], filesOf(winner)['model.json']);
      assert.deepEqual(files['weights.bin'], filesOf(winner)['weights.bin'], `model.json of attempt ${winner} with the weights of attempt ${winner}`);
    }
  });

  it('a zombie exporting after the retry committed changes nothing a reader sees', async () => {
    const exports = new ExportStore(store, uniqueId('exp-zombie'), 'S1');
    const retry = await exports.commit({ configHash: 'cfg', attempt: 2, files: filesOf(2) });
    const zombie = await exports.commit({ configHash: 'cfg', attempt: 1, files: filesOf(1) });
    assert.equal(zombie.reused, true);
    assert.deepEqual(zombie.manifestRef, retry.manifestRef);
    const { files } = await loadExport(store, retry.manifestRef, 'cfg');
    assert.deepEqual(files['weights.bin'], filesOf(2)['weights.bin']);
  });

  it('readers refuse an export of another config and a file altered after the commit', async () => {
    const exports = new ExportStore(store, uniqueId('exp-check'), 'S0');
    const { manifestRef, manifest } = await exports.commit({ configHash: 'cfg', attempt: 1, files: filesOf(1) });
    await assert.rejects(loadExport(store, manifestRef, 'other'), (err: unknown) => err instanceof ConfigMismatchError && /written for config cfg/.test(err.message));
    await assert.rejects(exports.commit({ configHash: 'other', attempt: 2, files: filesOf(2) }), ConfigMismatchError);
    await store.client.putObject(store.bucket, manifest.files['weights.bin']!.key, Buffer.from('bit rot'));
    await assert.rejects(loadExport(store, manifestRef, 'cfg'), IntegrityError);
  });

  it('`scalenet export` reads a row\'s model through its committed export manifest, checking the run\'s config hash', async () => {
    const runId = uniqueId('exp-reader');
    const exports = new ExportStore(store, runId, 'S1');
    const [zombie, retry] = await Promise.all([1, 2].map((attempt) => exports.commit({ configHash: 'cfg', attempt, files: filesOf(attempt) })));
    assert.deepEqual(zombie!.manifestRef, retry!.manifestRef);
    const files = retry!.manifest.files;
    const row = { model: 'S1', model_json: files['model.json']!, export: retry!.manifestRef } as ResultRow & { model_json: ObjectRef };
    const results = { runId, configHash: 'cfg' } as RunResults;
    const read = await storedModelFiles(store, { artifacts: [] }, results, row);
    const winner = retry!.manifest.attempt;
    assert.deepEqual([read.modelJson, read.weightsBytes], [filesOf(winner)['model.json'], filesOf(winner)['weights.bin']]);
    assert.deepEqual(read.weightsRef, files['weights.bin']);
    await assert.rejects(storedModelFiles(store, { artifacts: [] }, { ...results, configHash: 'other' }, row), ConfigMismatchError);
  });
});
