/**
 * Checkpoints in the artifact store (DESIGN §4): the objects of a checkpoint are written first and its
 * manifest — with the sha256 of every object — last, so a manifest exists only for a complete checkpoint.
 * A committed manifest is never overwritten. Loading walks manifests from the newest step down and takes
 * the first whose objects all verify; the ones it had to skip are reported, so the fallback is visible.
 *
 * Layout: runs/<runId>/<stage>[/<scope>…]/checkpoints/step-<10 digits>/{<object>.<sha256 prefix>…, manifest.json}
 * (a scope separates several trainings of one stage, e.g. one per retrained model)
 *
 * Fencing: object names carry their content hash, so two attempts that write the same step at once (a timed-out
 * attempt still alive, a "zombie", and its retry) never overwrite each other's objects; whichever manifest
 * lands last references objects that are exactly the bytes it hashed. Every manifest names the config hash it
 * was written for, and commit and load refuse one written for another config.
 */
import { z } from 'zod';
import { ObjectRefSchema, type ObjectRef } from '../core/refs';
import { isDamagedObject } from './errors';
import { referencedKeys } from './references';
import { objectKey, sha256Hex, type ArtifactStore } from './store';

export const CHECKPOINT_FORMAT = 'scalenet.checkpoint/v1';

export const CheckpointManifestSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  runId: z.string(),
  stage: z.string(),
  step: z.number().int().nonnegative(),
  configHash: z.string(),
  /** Temporal activity attempt that wrote it (audit). */
  attempt: z.number().int().positive(),
  createdAt: z.string(),
  objects: z.record(z.string(), ObjectRefSchema),
  /** Small JSON the stage wants back on resume (metrics so far, RNG state, …). */
  meta: z.record(z.string(), z.unknown()).default({}),
});
export type CheckpointManifest = z.infer<typeof CheckpointManifestSchema>;

/** A checkpoint of another config where this run expected its own (a reused run id, two servers on one bucket). */
export class ConfigMismatchError extends Error {
  constructor(readonly key: string, readonly found: string, readonly expected: string) {
    super(`${key} was written for config ${found}, but this run has config ${expected}: the run id's store prefix belongs to another run; ` +
      'choose another run id, or start again with --force');
    this.name = 'ConfigMismatchError';
  }
}

export interface SkippedCheckpoint {
  manifestKey: string;
  reason: string;
}

export interface LoadedCheckpoint {
  manifest: CheckpointManifest;
  manifestRef: ObjectRef;
  objects: Record<string, Buffer>;
  /** Newer checkpoints that were corrupt or incomplete and were passed over. */
  skipped: SkippedCheckpoint[];
}

const stepDir = (step: number) => `step-${String(step).padStart(10, '0')}`;

export class CheckpointStore {
  private readonly scope: string[];

  constructor(
    private readonly store: ArtifactStore,
    readonly runId: string,
    readonly stage: string,
    ...scope: string[]
  ) {
    this.scope = scope;
    objectKey('runs', runId, stage, ...scope); // validates every segment
  }

  private key(...rest: string[]): string {
    return objectKey('runs', this.runId, this.stage, ...this.scope, 'checkpoints', ...rest);
  }

  get prefix(): string {
    return `${this.key()}/`;
  }

  manifestKey(step: number): string {
    return this.key(stepDir(step), 'manifest.json');
  }

  /**
   * Commits a checkpoint: objects, then the manifest. If a manifest for this step already exists (a retried
   * attempt reached the same step again), it is kept and its reference returned: committed manifests are
   * immutable, and with deterministic training the content is the same.
   */
  async commit(args: { step: number; configHash: string; attempt: number; objects: Record<string, Uint8Array>; meta?: Record<string, unknown> }): Promise<{ manifestRef: ObjectRef; manifest: CheckpointManifest; reused: boolean }> {
    const mKey = this.manifestKey(args.step);
    if (await this.store.exists(mKey)) {
      const manifestRef = await this.store.refOf(mKey);
      const manifest = CheckpointManifestSchema.parse(await this.store.getJson(manifestRef));
      if (manifest.configHash !== args.configHash) throw new ConfigMismatchError(mKey, manifest.configHash, args.configHash);
      return { manifestRef, manifest, reused: true };
    }
    const objects: Record<string, ObjectRef> = {};
    for (const [name, data] of Object.entries(args.objects)) {
      // Content-addressed: a concurrent attempt writing other bytes for this step writes another key.
      objects[name] = await this.store.putBuffer(this.key(stepDir(args.step), `${name}.${sha256Hex(data).slice(0, 16)}`), data);
    }
    const manifest: CheckpointManifest = {
      format: CHECKPOINT_FORMAT,
      runId: this.runId,
      stage: this.stage,
      step: args.step,
      configHash: args.configHash,
      attempt: args.attempt,
      createdAt: new Date().toISOString(),
      objects,
      meta: args.meta ?? {},
    };
    const manifestRef = await this.store.putJson(mKey, manifest);
    return { manifestRef, manifest, reused: false };
  }

  /**
   * Deletes the checkpoint of `step`: its manifest first (so a manifest never names missing objects), then
   * its objects. Used for retention; a missing checkpoint is not an error. A checkpoint another run references
   * (a run that reuses this one's super-supernet, storage/references.ts) is kept: returns false then.
   */
  async remove(step: number): Promise<boolean> {
    if ((await referencedKeys(this.store, this.runId)).has(this.manifestKey(step))) return false;
    const dir = `${this.key(stepDir(step))}/`;
    if (await this.store.exists(this.manifestKey(step))) await this.store.remove(this.manifestKey(step));
    for (const o of await this.store.list(dir)) await this.store.remove(o.key);
    return true;
  }

  /** Steps that have a manifest, newest first. */
  async steps(): Promise<number[]> {
    const listed = await this.store.list(this.prefix);
    return listed
      .filter((o) => o.key.endsWith('/manifest.json'))
      .map((o) => Number(/step-(\d+)\/manifest\.json$/.exec(o.key)?.[1]))
      .filter((n) => Number.isInteger(n))
      .sort((a, b) => b - a);
  }

  /**
   * Loads one checkpoint by its manifest reference, verifying the manifest and every object, and, given
   * `configHash`, that it was written for that config ({@link ConfigMismatchError} otherwise).
   */
  async load(manifestRef: ObjectRef, configHash?: string): Promise<Omit<LoadedCheckpoint, 'skipped'>> {
    const manifest = CheckpointManifestSchema.parse(await this.store.getJson(manifestRef));
    if (configHash !== undefined && manifest.configHash !== configHash) throw new ConfigMismatchError(manifestRef.key, manifest.configHash, configHash);
    const objects: Record<string, Buffer> = {};
    for (const [name, ref] of Object.entries(manifest.objects)) objects[name] = await this.store.getVerified(ref);
    return { manifest, manifestRef, objects };
  }

  /**
   * The newest checkpoint whose manifest and objects all verify, or undefined when there is none.
   * @param maxStep ignore checkpoints after this step (e.g. beyond what a stage asked for).
   */
  async loadLatestValid(opts: { maxStep?: number; configHash?: string } = {}): Promise<LoadedCheckpoint | undefined> {
    const skipped: SkippedCheckpoint[] = [];
    for (const step of await this.steps()) {
      if (opts.maxStep !== undefined && step > opts.maxStep) continue;
      const key = this.manifestKey(step);
      try {
        const loaded = await this.load(await this.store.refOf(key));
        if (opts.configHash && loaded.manifest.configHash !== opts.configHash) {
          skipped.push({ manifestKey: key, reason: `written for config ${loaded.manifest.configHash}, this run has ${opts.configHash}` });
          continue;
        }
        return { ...loaded, skipped };
      } catch (err) {
        // Only a damaged or missing checkpoint is skipped; a transient store error must not make a retry
        // resume from an older checkpoint than the newest valid one.
        if (!isDamagedObject(err)) throw err;
        skipped.push({ manifestKey: key, reason: err instanceof Error ? err.message : String(err) });
      }
    }
    return undefined;
  }
}
