/**
 * The equivalence check every export passes before it reports success (issue 14): the exported files
 * are written into a staging folder, loaded back the way a user loads them (./predict-exported.ts:
 * stock tf.loadLayersModel, ONNX Runtime), run on real test images with the recipe of metadata.json, and
 * compared with the engine's logits. Only a model within tolerance is moved into the output folder;
 * otherwise the staging folder is deleted and the export fails with the largest difference.
 */
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { maxAbsDiff } from '../nn/reference';
import { loadExported, type ExportFormat, type RawImages } from './predict-exported';

/** Largest |Δlogit| an exported model may show against the engine. */
export const EXPORT_TOLERANCE = 1e-4;
/** Test images every export is checked on. */
export const CHECK_IMAGES = 32;

/** An exported model whose logits differ from the engine's by more than the tolerance. */
export class ExportCheckError extends Error {
  constructor(readonly format: ExportFormat, readonly maxAbsDiff: number, readonly tolerance: number, outDir: string) {
    super(`export check failed: the ${format} model's logits differ from the engine's by up to ${maxAbsDiff.toExponential(3)} (tolerance ${tolerance}); nothing was written to ${outDir}`);
    this.name = 'ExportCheckError';
  }
}

/** Largest |Δlogit| of each exported format against `reference` (row-major [images, classes]) on `raw`. */
export async function compareWithEngine(dir: string, formats: readonly ExportFormat[], raw: RawImages, reference: ArrayLike<number>): Promise<Partial<Record<ExportFormat, number>>> {
  const out: Partial<Record<ExportFormat, number>> = {};
  for (const f of formats) {
    const model = await loadExported(dir, f);
    try {
      out[f] = maxAbsDiff((await model.logits(raw)).flat(), reference);
    } finally {
      await model.dispose();
    }
  }
  return out;
}

export interface CheckedExportArgs {
  outDir: string;
  /** Model files by name (written before the check). */
  files: Record<string, Uint8Array>;
  formats: readonly ExportFormat[];
  /** Largest |Δlogit| per format of the files in the staging folder. */
  check: (stagingDir: string) => Promise<Partial<Record<ExportFormat, number>>>;
  /** metadata.json's text, given the measured differences (written after a passing check). */
  metadata: (diffs: Partial<Record<ExportFormat, number>>) => string;
  tolerance?: number;
}

/** Writes, checks, then commits the files into `outDir` (created if missing); returns the file names. */
export async function writeCheckedExport(a: CheckedExportArgs): Promise<{ files: string[]; diffs: Partial<Record<ExportFormat, number>> }> {
  const tolerance = a.tolerance ?? EXPORT_TOLERANCE;
  await mkdir(a.outDir, { recursive: true });
  // A staging folder inside outDir: the final renames stay on one file system, and a failed export
  // leaves the folder as it was.
  const staging = await mkdtemp(join(a.outDir, '.export-'));
  try {
    for (const [name, bytes] of Object.entries(a.files)) await writeFile(join(staging, name), bytes);
    const diffs = await a.check(staging);
    for (const f of a.formats) {
      const d = diffs[f];
      if (d === undefined) throw new Error(`export check: no comparison for the ${f} model`);
      if (!(d <= tolerance)) throw new ExportCheckError(f, d, tolerance, a.outDir);
    }
    await writeFile(join(staging, 'metadata.json'), a.metadata(diffs));
    // Model files first, metadata.json last: a folder with metadata.json holds a checked model.
    const names = [...Object.keys(a.files), 'metadata.json'];
    for (const name of names) await rename(join(staging, name), join(a.outDir, name));
    return { files: names, diffs };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
