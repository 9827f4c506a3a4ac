/**
 * Cross-run references (issue 15): a run that reuses another run's super-supernet (`supernet.from`) records
 * which checkpoint of that run it depends on, and retention (`resources.checkpointsKept`, storage/checkpoints.ts
 * `remove`) never deletes a checkpoint some run references.
 *
 * Layout: references/<owner run id>/<referrer run id>.json — outside runs/<owner>/, so the source run's prefix
 * stays exactly as the source wrote it (its run manifest lists that prefix).
 */
import { ObjectNotFoundError } from './errors';
import { objectKey, type ArtifactStore } from './store';

export const REFERENCE_FORMAT = 'scalenet.reference/v1';

export interface RunReference {
  format: typeof REFERENCE_FORMAT;
  /** The run that depends on the objects. */
  referrer: string;
  /** Keys of the owner run's objects it depends on (checkpoint manifests). */
  keys: string[];
  createdAt: string;
}

/** The run whose prefix holds `key` (`runs/<id>/…`), or null for a key outside any run. */
export function ownerRunOf(key: string): string | null {
  const m = /^runs\/([^/]+)\//.exec(key);
  return m ? (m[1] as string) : null;
}

/** Records that `referrerRunId` depends on the object at `key` (idempotent: one record per referrer and owner). */
export async function recordReference(store: ArtifactStore, referrerRunId: string, key: string): Promise<void> {
  const owner = ownerRunOf(key);
  if (owner === null || owner === referrerRunId) return;
  const recordKey = objectKey('references', owner, `${referrerRunId}.json`);
  const existing = await readReference(store, recordKey);
  if (existing?.keys.includes(key)) return;
  const record: RunReference = { format: REFERENCE_FORMAT, referrer: referrerRunId, keys: [...(existing?.keys ?? []), key], createdAt: new Date().toISOString() };
  await store.putJson(recordKey, record);
}

/** Every key of `ownerRunId`'s objects that another run references. */
export async function referencedKeys(store: ArtifactStore, ownerRunId: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const o of await store.list(`${objectKey('references', ownerRunId)}/`)) {
    for (const k of (await readReference(store, o.key))?.keys ?? []) out.add(k);
  }
  return out;
}

async function readReference(store: ArtifactStore, key: string): Promise<RunReference | null> {
  try {
    return await store.getJson<RunReference>(await store.refOf(key));
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return null;
    throw err;
  }
}
