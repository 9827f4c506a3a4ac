/**
 * Exported models in the artifact store, fenced like checkpoints (storage/checkpoints.ts): a retrained model's
 * files are written under a folder named by their content, and an export manifest — with the sha256 of every
 * file and the config hash — is committed last, by a conditional write that only the first attempt wins.
 *
 * Layout: runs/<runId>/retrain/<model>/model/{<content id>/{model.json, weights.bin}, export.json}
 * (the files of one export sit together under their own names, so the folder loads with stock
 * `tf.loadLayersModel`: model.json names weights.bin relatively)
 *
 * Why: with fixed file keys, a timed-out attempt that is still alive (a "zombie") and its retry both wrote
 * model.json and weights.bin, and a reader could get one attempt's model.json with the other's weights. Now each
 * attempt's files live under their own content id, the manifest names one consistent set, and a later attempt
 * adopts the committed manifest instead of replacing it.
 */
import { z } from 'zod';
import { ObjectRefSchema, type ObjectRef } from '../core/refs';
import { ConfigMismatchError } from './checkpoints';
import { objectKey, sha256Hex, type ArtifactStore } from './store';

export const EXPORT_FORMAT = 'scalenet.export/v1';

export const ExportManifestSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  runId: z.string(),
  model: z.string(),
  configHash: z.string(),
  /** Temporal activity attempt that wrote it (audit). */
  attempt: z.number().int().positive(),
  createdAt: z.string(),
  /** File name in the exported folder → its object. */
  files: z.record(z.string(), ObjectRefSchema),
}).strict();
export type ExportManifest = z.infer<typeof ExportManifestSchema>;

export interface CommittedExport {
  manifestRef: ObjectRef;
  manifest: ExportManifest;
  /** True when another attempt had committed first: its export is the one returned (and kept). */
  reused: boolean;
}

export class ExportStore {
  constructor(
    private readonly store: ArtifactStore,
    readonly runId: string,
    readonly model: string,
  ) {
    objectKey('runs', runId, 'retrain', model); // validates every segment
  }

  private key(...rest: string[]): string {
    return objectKey('runs', this.runId, 'retrain', this.model, 'model', ...rest);
  }

  get manifestKey(): string {
    return this.key('export.json');
  }

  /**
   * Commits an export: the files under their content id, then the manifest, written only if none exists. The
   * manifest that ends up committed (this attempt's, or an earlier attempt's) is returned, so every attempt
   * reports the same export. A committed manifest of another config is a {@link ConfigMismatchError}.
   */
  async commit(args: { configHash: string; attempt: number; files: Record<string, Uint8Array> }): Promise<CommittedExport> {
    const names = Object.keys(args.files).sort();
    const hashes = names.map((n) => `${n}:${sha256Hex(args.files[n] as Uint8Array)}`).join('\n');
    const id = sha256Hex(Buffer.from(hashes)).slice(0, 16);
    let written: Record<string, ObjectRef> | null = null;
    if (!(await this.store.exists(this.manifestKey))) {
      written = {};
      for (const name of names) written[name] = await this.store.putBuffer(this.key(id, name), args.files[name] as Uint8Array, name.endsWith('.json') ? 'application/json' : undefined);
      const mine: ExportManifest = {
        format: EXPORT_FORMAT, runId: this.runId, model: this.model, configHash: args.configHash,
        attempt: args.attempt, createdAt: new Date().toISOString(), files: written,
      };
      await this.store.putJsonIfAbsent(this.manifestKey, mine);
    }
    // Read back what is committed: this attempt's manifest, or the one that won the conditional write.
    const manifestRef = await this.store.refOf(this.manifestKey);
    const manifest = await loadExportManifest(this.store, manifestRef, args.configHash);
    // File keys carry the content id, so equal keys mean equal bytes.
    const reused = written === null || names.some((n) => manifest.files[n]?.key !== written[n]?.key);
    return { manifestRef, manifest, reused };
  }
}

/** A committed export manifest, verified against its reference and, given `configHash`, written for that config. */
export async function loadExportManifest(store: ArtifactStore, manifestRef: ObjectRef, configHash?: string): Promise<ExportManifest> {
  const manifest = ExportManifestSchema.parse(await store.getJson(manifestRef));
  if (configHash !== undefined && manifest.configHash !== configHash) throw new ConfigMismatchError(manifestRef.key, manifest.configHash, configHash);
  return manifest;
}

/** Every file of a committed export (by the manifest's reference), each verified against the manifest's sha256. */
export async function loadExport(store: ArtifactStore, manifestRef: ObjectRef, configHash?: string): Promise<{ manifest: ExportManifest; files: Record<string, Buffer> }> {
  const manifest = await loadExportManifest(store, manifestRef, configHash);
  const files: Record<string, Buffer> = {};
  for (const [name, ref] of Object.entries(manifest.files)) files[name] = await store.getVerified(ref);
  return { manifest, files };
}
