import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CheckpointStore } from '../../storage/checkpoints';
import { recordReference, referencedKeys } from '../../storage/references';
import type { ArtifactStore } from '../../storage/store';
import { skipWithoutServers, testStore, uniqueId } from '../helpers/env';

describe('checkpoints: objects first, manifest last, newest valid wins', { skip: skipWithoutServers }, () => {
  let store: ArtifactStore;
  before(async () => {
    store = await testStore();
  });

  const commit = (cs: CheckpointStore, step: number) =>
    cs.commit({ step, configHash: 'cfg1', attempt: 1, objects: { weights: Buffer.from(`w${step}`), state: Buffer.from(`s${step}`) }, meta: { step } });

  it('loads the newest checkpoint and verifies every object', async () => {
    const cs = new CheckpointStore(store, uniqueId('ck'), 'supernet');
    for (const step of [10, 20, 30]) await commit(cs, step);
    assert.deepEqual(await cs.steps(), [30, 20, 10]);
    const latest = await cs.loadLatestValid();
    assert.equal(latest?.manifest.step, 30);
    assert.equal(latest?.objects.weights?.toString(), 'w30');
    assert.deepEqual(latest?.skipped, []);
    assert.equal((await cs.loadLatestValid({ maxStep: 25 }))?.manifest.step, 20);
  });

  it('falls back to the previous checkpoint when the newest has a corrupt object, and says so', async () => {
    const cs = new CheckpointStore(store, uniqueId('ck'), 'supernet');
    await commit(cs, 10);
    const { manifest } = await commit(cs, 20);
    await store.client.putObject(store.bucket, manifest.objects.weights!.key, Buffer.from('bit rot'));
    const latest = await cs.loadLatestValid();
    assert.equal(latest?.manifest.step, 10);
    assert.equal(latest?.skipped.length, 1);
    assert.match(latest!.skipped[0]!.manifestKey, /step-0000000020\/manifest\.json$/);
    assert.match(latest!.skipped[0]!.reason, /sha256/);
  });

  it('treats a checkpoint without manifest as absent (crash between objects and manifest)', async () => {
    const cs = new CheckpointStore(store, uniqueId('ck'), 'supernet');
    await commit(cs, 10);
    await store.putBuffer(cs.prefix + 'step-0000000020/weights', Buffer.from('half written'));
    assert.equal((await cs.loadLatestValid())?.manifest.step, 10);
  });

  it('never overwrites a committed manifest', async () => {
    const cs = new CheckpointStore(store, uniqueId('ck'), 'supernet');
    const first = await commit(cs, 10);
    const again = await cs.commit({ step: 10, configHash: 'cfg1', attempt: 2, objects: { weights: Buffer.from('other') } });
    assert.equal(again.reused, true);
    assert.deepEqual(again.manifestRef, first.manifestRef);
    assert.equal((await cs.loadLatestValid())?.objects.weights?.toString(), 'w10');
  });

  it('skips checkpoints written for another config', async () => {
    const cs = new CheckpointStore(store, uniqueId('ck'), 'supernet');
    await commit(cs, 10);
    const l = await cs.loadLatestValid({ configHash: 'other' });
    assert.equal(l, undefined);
  });

  it('fences concurrent attempts: two commits of one step with different bytes never overwrite each other\'s objects', async () => {
    const cs = new CheckpointStore(store, uniqueId('ck'), 'supernet');
    // A zombie attempt and its retry both find no manifest and write at once.
    const [a, b] = await Promise.all([
      cs.commit({ step: 10, configHash: 'cfg1', attempt: 1, objects: { weights: Buffer.from('zombie') } }),
      cs.commit({ step: 10, configHash: 'cfg1', attempt: 2, objects: { weights: Buffer.from('retry') } }),
    ]);
    assert.notEqual(a.manifest.objects.weights!.key, b.manifest.objects.weights!.key);
    // Both attempts' objects are intact, and whichever manifest won loads and verifies.
    assert.equal((await store.getVerified(a.manifest.objects.weights!)).toString(), 'zombie');
    assert.equal((await store.getVerified(b.manifest.objects.weights!)).toString(), 'retry');
    const latest = await cs.loadLatestValid({ configHash: 'cfg1' });
    assert.ok(['zombie', 'retry'].includes(latest!.objects.weights!.toString()));
    assert.deepEqual(latest!.skipped, []);
  });

  it('refuses to commit or load a checkpoint of another config under the same run id', async () => {
    const cs = new CheckpointStore(store, uniqueId('ck'), 'supernet');
    const first = await commit(cs, 10);
    await assert.rejects(cs.commit({ step: 10, configHash: 'cfg2', attempt: 1, objects: { weights: Buffer.from('x') } }), { name: 'ConfigMismatchError' });
    await assert.rejects(cs.load(first.manifestRef, 'cfg2'), { name: 'ConfigMismatchError' });
    assert.equal((await cs.load(first.manifestRef, 'cfg1')).manifest.step, 10);
  });

  it('retention never deletes a checkpoint another run references (supernet.from), and still prunes the rest', async () => {
    const source = uniqueId('ck-src');
    const cs = new CheckpointStore(store, source, 'train-supernet');
    for (const step of [4, 8, 12]) await commit(cs, step);
    // Two runs reuse the source's step-8 checkpoint (recording twice is harmless).
    await recordReference(store, uniqueId('ck-reuse'), cs.manifestKey(8));
    const other = uniqueId('ck-reuse');
    await recordReference(store, other, cs.manifestKey(8));
    await recordReference(store, other, cs.manifestKey(8));
    assert.deepEqual([...await referencedKeys(store, source)], [cs.manifestKey(8)]);
    assert.equal(await cs.remove(8), false, 'the referenced checkpoint is kept');
    assert.equal(await cs.remove(4), true);
    assert.deepEqual(await cs.steps(), [12, 8]);
    assert.equal((await cs.loadLatestValid({ maxStep: 8 }))?.objects.weights?.toString(), 'w8', 'and it still loads whole');
    assert.deepEqual((await store.list(cs.prefix)).filter((o) => o.key.includes('step-0000000004')), [], 'the unreferenced one is gone, objects and all');
  });
});
