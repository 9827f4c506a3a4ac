/**
 * Checkpoint retention: a training keeps its newest `keep` intermediate checkpoints and its final one, so a
 * long run's store does not grow with every checkpoint it ever wrote. In-memory store and trainer stand-ins.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { trainWithCheckpoints } from '../../../activities/checkpointing';
import type { ObjectRef } from '../../../core/refs';
import type { Trainer } from '../../../nn/trainer';
import { CheckpointStore } from '../../../storage/checkpoints';
import { ObjectNotFoundError } from '../../../storage/errors';
import { recordReference } from '../../../storage/references';
import type { ArtifactStore } from '../../../storage/store';

/** The part of ArtifactStore that CheckpointStore uses, in memory. */
class MemoryStore {
  readonly bucket = 'mem';
  readonly objects = new Map<string, Buffer>();
  private ref(key: string): ObjectRef {
    const b = this.objects.get(key);
    if (!b) throw new ObjectNotFoundError(this.bucket, key);
    return { bucket: this.bucket, key, sha256: createHash('sha256').update(b).digest('hex'), bytes: b.byteLength };
  }
  async putBuffer(key: string, data: Uint8Array) { this.objects.set(key, Buffer.from(data)); return this.ref(key); }
  async putJson(key: string, v: unknown) { return this.putBuffer(key, Buffer.from(JSON.stringify(v))); }
  async exists(key: string) { return this.objects.has(key); }
  async refOf(key: string) { return this.ref(key); }
  async getVerified(ref: ObjectRef) { return this.objects.get(ref.key) ?? Promise.reject(new ObjectNotFoundError(this.bucket, ref.key)); }
  async getJson(ref: ObjectRef) { return JSON.parse((await this.getVerified(ref)).toString('utf8')) as unknown; }
  async list(prefix: string) { return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort().map((key) => ({ key, bytes: 0, lastModified: new Date(0) })); }
  async remove(key: string) { this.objects.delete(key); }
}

/** Trains a stand-in trainer to step 20 with a checkpoint every 2 steps, keeping the newest 3 intermediate ones. */
async function trainTo20KeepingThree(ck: CheckpointStore): Promise<void> {
  let step = 0;
  const trainer = {
    get step() { return step; },
    async train(n: number) { step += n; },
    async serialize() { return { header: { step } as never, bytes: new Uint8Array([step]) }; },
  } as unknown as Trainer;
  await new MockActivityEnvironment().run(() => trainWithCheckpoints({
    trainer, ck, configHash: 'cfg', endStep: 20, everySteps: 2, everySeconds: 1e9, keep: 3, meta: (final) => ({ final }),
  }));
}

void test('training keeps the newest `keep` intermediate checkpoints and the final one, deleting the rest whole', async () => {
  const mem = new MemoryStore();
  const ck = new CheckpointStore(mem as unknown as ArtifactStore, 'run-ret', 'train-supernet');
  await trainTo20KeepingThree(ck);
  // Checkpoints at 2, 4, …, 18 were written; only 14, 16, 18 and the final 20 remain.
  assert.deepEqual(await ck.steps(), [20, 18, 16, 14]);
  const dirs = new Set([...mem.objects.keys()].map((k) => /step-(\d+)\//.exec(k)?.[1]));
  assert.deepEqual([...dirs].map(Number).sort((a, b) => a - b), [14, 16, 18, 20], 'no objects of pruned checkpoints are left');
  assert.equal((await ck.loadLatestValid({ configHash: 'cfg' }))?.manifest.step, 20);
});

void test('retention keeps a checkpoint another run references (supernet.from) and prunes the others as before', async () => {
  const mem = new MemoryStore();
  const store = mem as unknown as ArtifactStore;
  const ck = new CheckpointStore(store, 'run-src', 'train-supernet');
  // Another run reuses the step-4 checkpoint before the training gets past it (recorded outside run-src's prefix).
  await recordReference(store, 'run-reuse', ck.manifestKey(4));
  assert.ok([...mem.objects.keys()].every((k) => !k.startsWith('runs/run-src/')), 'the reference is not written under the source\'s prefix');
  await trainTo20KeepingThree(ck);
  assert.deepEqual(await ck.steps(), [20, 18, 16, 14, 4]);
  assert.equal((await ck.load(await mem.refOf(ck.manifestKey(4)))).manifest.step, 4, 'the referenced checkpoint loads whole');
});
