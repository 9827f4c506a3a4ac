/**
 * Which config a run id's store prefix (`runs/<runId>/`) belongs to. A run id reused against a bucket that
 * holds an older run (a reset Temporal database, two servers on one bucket) would otherwise pick up the
 * other config's checkpoints and records; the owner record makes that a refusal instead.
 */
import { ConfigMismatchError } from './checkpoints';
import { ObjectNotFoundError } from './errors';
import { objectKey, type ArtifactStore } from './store';

export interface RunOwner {
  configHash: string;
  claimedAt: string;
}

export const runOwnerKey = (runId: string) => objectKey('runs', runId, 'owner.json');

/** The config hash that owns `runId`'s prefix, or null when nothing claimed it. */
export async function runOwner(store: ArtifactStore, runId: string): Promise<RunOwner | null> {
  try {
    return await store.getJson<RunOwner>(await store.refOf(runOwnerKey(runId)));
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return null;
    throw err;
  }
}

/**
 * Claims `runId`'s prefix for `configHash`. Throws {@link ConfigMismatchError} when another config owns it
 * (or, unless `adoptUnowned`, when objects without an owner record are there), unless `force`: then everything
 * under the prefix is deleted first (the old run's objects cannot be reused).
 */
export async function claimRunPrefix(store: ArtifactStore, runId: string, configHash: string, opts: { force?: boolean; adoptUnowned?: boolean } = {}): Promise<void> {
  const owner = await runOwner(store, runId);
  if (owner?.configHash === configHash) return;
  const prefix = `${objectKey('runs', runId)}/`;
  if (owner || (!opts.adoptUnowned && (await store.list(prefix)).length > 0)) {
    if (!opts.force) throw new ConfigMismatchError(prefix, owner?.configHash ?? '(unknown: objects without an owner record)', configHash);
    for (const o of await store.list(prefix)) await store.remove(o.key);
  }
  await store.putJson(runOwnerKey(runId), { configHash, claimedAt: new Date().toISOString() } satisfies RunOwner);
}
