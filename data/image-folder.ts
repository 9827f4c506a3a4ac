/**
 * Image-folder datasets (issue 13): a directory — on local disk or under an object-store prefix — with
 * one sub-folder per class. Listing finds the classes (sorted names are the class ids) and every file;
 * checking decodes each file once, so that every problem (a corrupt or truncated image, a non-image
 * file, a decompression bomb, a symlink loop, an empty class folder, a single class) is found by
 * prepare-data, before any compute is spent, with the file's path in the message.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../core/rng';
import { BadImageError, checkImageHeader, probeImage } from './image-decode';
import type { Normalization } from './tensor';

/** A tree of files: local or in an object store. Paths are relative, '/'-separated. */
export interface FileSource {
  /** What the user wrote (a directory or `s3://bucket/prefix`), used in every message. */
  readonly root: string;
  /** Every file below the root and the names of the top-level folders (some may hold no files). */
  list(): Promise<{ files: string[]; folders: string[]; loops: BadImageError[] }>;
  read(path: string): Promise<Uint8Array>;
}

/** A local directory. Symlinks are followed; one that leads back to a folder above it is a loop. */
export function localSource(dir: string): FileSource {
  return {
    root: dir,
    async list() {
      const files: string[] = [];
      const loops: BadImageError[] = [];
      const folders: string[] = [];
      const walk = async (rel: string, ancestors: string[]): Promise<void> => {
        const abs = join(dir, rel);
        let entries;
        try {
          entries = await readdir(abs, { withFileTypes: true });
        } catch (err) {
          throw new BadImageError(abs, `cannot list this folder: ${(err as Error).message}`);
        }
        for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
          const childRel = rel ? `${rel}/${e.name}` : e.name;
          const childAbs = join(dir, childRel);
          let isDir = e.isDirectory();
          if (e.isSymbolicLink()) {
            try {
              isDir = (await stat(childAbs)).isDirectory();
            } catch (err) {
              const code = (err as NodeJS.ErrnoException).code;
              loops.push(new BadImageError(childAbs, code === 'ELOOP' ? 'symlink loop (the link resolves to itself)' : `broken symlink: ${(err as Error).message}`));
              continue;
            }
          }
          if (isDir) {
            const real = await realpath(childAbs);
            if (ancestors.includes(real)) {
              loops.push(new BadImageError(childAbs, `symlink loop: it leads back to ${real}, a folder above it`));
              continue;
            }
            if (!rel) folders.push(e.name);
            await walk(childRel, [...ancestors, real]);
          } else if (e.isFile() || e.isSymbolicLink()) {
            files.push(childRel);
          }
        }
      };
      try {
        if (!(await stat(dir)).isDirectory()) throw new BadImageError(dir, 'not a directory; an image-folder source is a directory with one sub-folder per class');
      } catch (err) {
        if (err instanceof BadImageError) throw err;
        throw new BadImageError(dir, `cannot read the dataset folder: ${(err as Error).message}`);
      }
      await walk('', [await realpath(dir)]);
      return { files, folders, loops };
    },
    async read(path) {
      return readFile(join(dir, path));
    },
  };
}

/** `s3://bucket/prefix` → its parts, or null for a local path. */
export function parseS3Url(src: string): { bucket: string; prefix: string } | null {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(src);
  if (!m) return null;
  const prefix = (m[2] ?? '').replace(/\/+$/, '');
  return { bucket: m[1] as string, prefix: prefix ? `${prefix}/` : '' };
}

/** A labelled file of a scanned folder. */
export interface LabelledFile {
  /** Path relative to the source root (`class/file.jpg`). */
  readonly name: string;
  readonly label: number;
}

/** The structure of a source: classes and files, before any file is decoded. */
export interface FolderScan {
  readonly root: string;
  readonly classes: string[];
  readonly files: LabelledFile[];
  /** Files that are not inside a class folder, and symlink loops (reported or skipped like bad images). */
  readonly bad: BadImageError[];
}

/**
 * Lists a source: classes are its top-level folders in sorted order. An empty class folder or fewer than
 * two classes always fail (a class without images cannot be learnt, and the folder is likely a mistake).
 */
export async function scanFolder(src: FileSource): Promise<FolderScan> {
  const { files, folders, loops } = await src.list();
  const classes = [...folders].sort();
  const bad = [...loops];
  const counts = new Map(classes.map((c) => [c, 0]));
  const out: LabelledFile[] = [];
  for (const f of files) {
    const slash = f.indexOf('/');
    if (slash < 0) {
      bad.push(new BadImageError(`${src.root}/${f}`, 'a file outside any class folder (put each image in the folder named after its class)'));
      continue;
    }
    const cls = f.slice(0, slash);
    const label = classes.indexOf(cls);
    if (label < 0) continue;
    counts.set(cls, (counts.get(cls) ?? 0) + 1);
    out.push({ name: f, label });
  }
  const empty = classes.filter((c) => counts.get(c) === 0);
  if (empty.length > 0) throw new BadImageError(`${src.root}/${empty[0]}`, `empty class folder (no files in ${empty.map((c) => `"${c}"`).join(', ')}); remove it or add images`);
  if (classes.length < 2) {
    throw new BadImageError(src.root, `found ${classes.length} class folder(s)${classes.length ? ` ("${classes[0]}")` : ''}; a classification dataset needs at least two, one sub-folder per class`);
  }
  return { root: src.root, classes, files: out, bad };
}

/** Options of {@link checkFiles}. */
export interface CheckArgs {
  channels: 1 | 3;
  maxPixels: number;
  onBadImage: 'fail' | 'skip';
  /** Files decoded at once (sharp runs them on the libuv pool). Default 8. */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

/** A file that passed {@link checkFiles}. */
export interface CheckedFile extends LabelledFile {
  readonly width: number;
  readonly height: number;
}

/** Result of {@link checkFiles}: the usable files in input order, the skipped ones, and pixel statistics. */
export interface CheckResult {
  files: CheckedFile[];
  skipped: { file: string; reason: string }[];
  /** Per-channel mean/std of pixel/255 over all usable files (32×32 thumbnails). */
  normalization: Normalization;
}

/** Decodes every file once. @throws BadImageError for the first bad file (in input order) unless skipping. */
export async function checkFiles(src: FileSource, scan: FolderScan, args: CheckArgs): Promise<CheckResult> {
  const c = args.channels;
  // Per-file sums, added up in input order below: floating-point sums in completion order differed in the
  // last bits between a local folder and the same files in S3, and so would a retried prepare-data.
  const stats: { sum: number[]; sq: number[]; pixels: number }[] = new Array(scan.files.length);
  const results: (CheckedFile | BadImageError)[] = new Array(scan.files.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < scan.files.length) {
      const i = next++;
      const f = scan.files[i] as LabelledFile;
      const path = `${src.root}/${f.name}`;
      // A failed read (storage briefly down) propagates and is retried; only the file's content is judged.
      const bytes = await src.read(f.name);
      try {
        const p = await probeImage(bytes, path, args);
        stats[i] = { sum: Array.from(p.sum), sq: Array.from(p.sq), pixels: p.pixels };
        results[i] = { ...f, width: p.width, height: p.height };
      } catch (err) {
        results[i] = err instanceof BadImageError ? err : new BadImageError(path, (err as Error).message);
      }
      args.onProgress?.(++done, scan.files.length);
    }
  };
  await Promise.all(Array.from({ length: args.concurrency ?? 8 }, worker));
  const bad = [...scan.bad, ...results.filter((r): r is BadImageError => r instanceof BadImageError)];
  if (bad.length > 0 && args.onBadImage === 'fail') {
    const more = bad.length > 1 ? ` (and ${bad.length - 1} more bad file(s); set dataset.onBadImage: skip to leave them out)` : ' (set dataset.onBadImage: skip to leave such files out)';
    const first = bad[0] as BadImageError;
    throw new BadImageError(first.file, first.reason + more);
  }
  const files = results.filter((r): r is CheckedFile => !(r instanceof BadImageError));
  const sum = new Array<number>(c).fill(0);
  const sq = new Array<number>(c).fill(0);
  let pixels = 0;
  for (const st of stats) {
    if (!st) continue;
    for (let k = 0; k < c; k++) {
      sum[k]! += st.sum[k] as number;
      sq[k]! += st.sq[k] as number;
    }
    pixels += st.pixels;
  }
  const mean = sum.map((s) => s / Math.max(pixels, 1));
  const std = sq.map((s, k) => Math.sqrt(Math.max(s / Math.max(pixels, 1) - (mean[k] as number) ** 2, 1e-12)));
  return { files, skipped: bad.map((b) => ({ file: b.file, reason: b.reason })), normalization: { mean, std } };
}

/** Options of {@link inspectFiles}. */
export interface InspectArgs {
  maxPixels: number;
  /** Files read at once. Default 16: reading and header parsing wait on I/O more than on a core. */
  concurrency?: number;
}

/**
 * The quick check of `data inspect`: every file's header ({@link checkImageHeader}), never its pixels.
 * Returns the usable files in input order and the bad ones (never throws for a bad file).
 */
export async function inspectFiles(src: FileSource, scan: FolderScan, args: InspectArgs): Promise<{ files: CheckedFile[]; bad: { file: string; reason: string }[] }> {
  const results: (CheckedFile | BadImageError)[] = new Array(scan.files.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < scan.files.length) {
      const i = next++;
      const f = scan.files[i] as LabelledFile;
      const path = `${src.root}/${f.name}`;
      try {
        results[i] = { ...f, ...(await checkImageHeader(await src.read(f.name), path, args.maxPixels)) };
      } catch (err) {
        results[i] = err instanceof BadImageError ? err : new BadImageError(path, (err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: args.concurrency ?? 16 }, worker));
  const bad = [...scan.bad, ...results.filter((r): r is BadImageError => r instanceof BadImageError)];
  return { files: results.filter((r): r is CheckedFile => !(r instanceof BadImageError)), bad: bad.map((b) => ({ file: b.file, reason: b.reason })) };
}

/**
 * Minival held out of the training files, stratified: each class gives its share (largest remainders get
 * the rounding), chosen by a seeded shuffle within the class; each class keeps at least one training image.
 */
export function stratifiedSplit<T extends LabelledFile>(files: readonly T[], classes: number, minivalSize: number, seed: number): { train: T[]; minival: T[] } {
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  files.forEach((f, i) => byClass[f.label]!.push(i));
  const n = files.length;
  const exact = byClass.map((idx) => (minivalSize * idx.length) / n);
  const quota = exact.map((e, k) => Math.min(Math.floor(e), Math.max(0, byClass[k]!.length - 1)));
  let left = minivalSize - quota.reduce((a, b) => a + b, 0);
  const order = exact.map((e, k) => ({ k, frac: e - Math.floor(e) })).sort((a, b) => b.frac - a.frac || a.k - b.k);
  for (let pass = 0; left > 0 && pass < 2; pass++) {
    for (const { k } of order) {
      if (left === 0) break;
      if ((quota[k] as number) < byClass[k]!.length - 1) {
        quota[k]! += 1;
        left -= 1;
      }
    }
  }
  const held = new Set<number>();
  byClass.forEach((idx, k) => {
    for (const i of new Rng(`minival:${seed}:${k}`).shuffle([...idx]).slice(0, quota[k])) held.add(i);
  });
  const train: T[] = [];
  const minival: T[] = [];
  files.forEach((f, i) => (held.has(i) ? minival : train).push(f));
  return { train, minival };
}
