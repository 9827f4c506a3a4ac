/**
 * Stage 1: prepare the data. The configured dataset is read once, its minival split is held out
 * (seeded), and all three splits are packed into shards in the store so that workers on other machines
 * read exactly the same images. Idempotent: a run that already prepared its data reuses it.
 *
 * Image folders (issue 13) are checked file by file (every problem named, see data/image-folder.ts) and
 * packed as *encoded* files; each shard is written once under a deterministic key, so a killed attempt
 * resumes at the first missing shard (shards found are verified first, see `completeShard`), and the index
 * that makes the data usable is written last.
 */
import { Context } from '@temporalio/activity';
import { resolveSpace, type ImageFolderDataset, type RunConfig } from '../core/config';
import { canonicalJson, sha256Hex } from '../core/hash';
import type { DataRef, RunContext } from '../core/pipeline';
import type { ObjectRef } from '../core/refs';
import { Rng } from '../core/rng';
import { loadDataset } from '../data/dataset';
import { packEncodedShard, unpackEncodedShard } from '../data/encoded-shards';
import { DatasetFormatError } from '../data/errors';
import { BadImageError } from '../data/image-decode';
import { checkFiles, localSource, parseS3Url, scanFolder, stratifiedSplit, type CheckedFile, type FileSource, type FolderScan } from '../data/image-folder';
import { s3Source } from '../data/s3-source';
import { packShards } from '../data/shards';
import type { ImageSet } from '../data/types';
import { IntegrityError } from '../storage/errors';
import { objectKey, type ArtifactStore } from '../storage/store';
import { claimRunPrefix } from '../storage/run-owner';
import { nonRetryableInput } from './runtime';

const IMAGES_PER_SHARD = 10_000;

/**
 * Test hook, for the kill/resume test of prepare-data, which must act between two shards whatever the
 * machine's speed: with SCALENET_TEST_HOLD_PREPARE_AT_SHARD=N, the first time this process is about to write
 * training shard N it stands still (heartbeating) until it is killed. Once per process. Unset in normal use.
 */
let prepareHold: 'armed' | 'done' = 'armed';
async function holdBeforeShard(split: string, shard: number, heartbeat: (d: unknown) => void): Promise<void> {
  if (prepareHold === 'done' || split !== 'train' || shard !== Number(process.env.SCALENET_TEST_HOLD_PREPARE_AT_SHARD)) return;
  const ctx = Context.current();
  while (!ctx.cancellationSignal.aborted) {
    heartbeat({ split, shard, holding: true });
    await new Promise((r) => setTimeout(r, 100));
  }
  prepareHold = 'done';
}

/**
 * The shard already under `key`, if it is complete: its bytes match the sha256 recorded when it was written,
 * it parses with every byte its header promises, and it holds exactly `files`, in order. Anything else (a
 * cut-short or foreign object, whatever its name says) is null, and the caller writes the shard again.
 */
async function completeShard(store: ArtifactStore, key: string, files: readonly CheckedFile[]): Promise<ObjectRef | null> {
  if (!(await store.exists(key))) return null;
  try {
    const ref = await store.refOf(key);
    const entries = unpackEncodedShard(await store.getVerified(ref), key);
    const same = entries.length === files.length && entries.every((e, i) => e.name === files[i]!.name && e.label === files[i]!.label);
    return same ? ref : null;
  } catch (err) {
    if (err instanceof IntegrityError || err instanceof DatasetFormatError) return null;
    throw err;
  }
}

/** The part of the config that decides the prepared data (so unrelated changes keep it valid). */
export function dataHash(config: RunConfig): string {
  return sha256Hex(canonicalJson({ dataset: config.dataset, seed: config.seed, minivalSize: config.search.minivalSize })).slice(0, 16);
}

/** A local directory or an `s3://bucket/prefix` read with the store's client. */
export function folderSource(store: ArtifactStore, src: string): FileSource {
  const s3 = parseS3Url(src);
  return s3 ? s3Source(store.client, s3.bucket, s3.prefix) : localSource(src);
}

export function createDataActivities(store: ArtifactStore) {
  async function prepareImageFolder(ctx: RunContext, cfg: ImageFolderDataset, h: string): Promise<Omit<DataRef, never>> {
    const dir = (...s: string[]) => objectKey('runs', ctx.runId, 'prepare-data', `folder-${h}`, ...s);
    const heartbeat = (details: unknown) => Context.current().heartbeat(details);
    const check = async (src: FileSource, split: string, scan: FolderScan) => checkFiles(src, scan, {
      channels: cfg.channels, maxPixels: cfg.maxPixels, onBadImage: cfg.onBadImage,
      // Every file: one decode of a large photo can take a second, and the SDK throttles heartbeats anyway.
      onProgress: (done, total) => heartbeat({ split, checked: done, of: total }),
    });
    const sources = { train: folderSource(store, cfg.train), test: folderSource(store, cfg.test), val: cfg.val ? folderSource(store, cfg.val) : undefined };
    const trainScan = await scanFolder(sources.train);
    const classes = trainScan.classes;
    const space = resolveSpace(ctx.config);
    if (space.classes !== classes.length) {
      throw new BadImageError(cfg.train, `has ${classes.length} class folders (${classes.join(', ')}) but the space has ${space.classes} classes; set space.overrides.classes: ${classes.length}`);
    }
    const sameClasses = async (src: FileSource) => {
      const scan = await scanFolder(src);
      if (scan.classes.join('/') !== classes.join('/')) {
        throw new BadImageError(src.root, `its class folders (${scan.classes.join(', ')}) differ from the training folder's (${classes.join(', ')}); both need the same sub-folders`);
      }
      return scan;
    };
    const trainChecked = await check(sources.train, 'train', trainScan);
    const testChecked = await check(sources.test, 'test', await sameClasses(sources.test));
    const valChecked = sources.val ? await check(sources.val, 'val', await sameClasses(sources.val)) : undefined;
    const split = valChecked
      ? { train: trainChecked.files, minival: valChecked.files }
      : stratifiedSplit(trainChecked.files, classes.length, ctx.config.search.minivalSize, ctx.config.seed);
    // Shards hold files in a seeded order, so each one mixes the classes and the streaming shuffle buffer
    // stays small; the order is a function of the config, so a retried attempt writes identical shards.
    const trainFiles = new Rng(`pack:${ctx.config.seed}`).shuffle([...split.train]);

    const put = async (name: string, src: FileSource, files: readonly CheckedFile[]): Promise<ObjectRef[]> => {
      const refs: ObjectRef[] = [];
      for (let start = 0, i = 0; start < files.length; start += cfg.imagesPerShard, i++) {
        const key = dir(`${name}-${String(i).padStart(5, '0')}.snef`);
        const chunk = files.slice(start, start + cfg.imagesPerShard);
        // A shard left by an earlier attempt is reused only once verified; a retry costs a read-back, never a wrong shard.
        const done = await completeShard(store, key, chunk);
        if (done) {
          refs.push(done);
        } else {
          await holdBeforeShard(name, i, heartbeat);
          const images = [];
          for (const f of chunk) {
            images.push({ label: f.label, name: f.name, bytes: await src.read(f.name) });
            heartbeat({ split: name, shard: i, read: images.length });
          }
          refs.push(await store.putBuffer(key, packEncodedShard(images)));
        }
        heartbeat({ split: name, shard: i });
      }
      return refs;
    };
    const skipped = [...trainChecked.skipped, ...testChecked.skipped, ...(valChecked?.skipped ?? [])];
    const sizes = new Map<string, number>();
    for (const f of trainFiles) sizes.set(`${f.height}x${f.width}`, (sizes.get(`${f.height}x${f.width}`) ?? 0) + 1);
    const [common] = [...sizes].sort((a, b) => b[1] - a[1]);
    const [ch, cw] = (common?.[0] ?? '0x0').split('x').map(Number) as [number, number];
    return {
      train: await put('train', sources.train, trainFiles),
      minival: await put('minival', valChecked ? (sources.val as FileSource) : sources.train, split.minival),
      test: await put('test', sources.test, testChecked.files),
      imageShape: [ch, cw, cfg.channels],
      classes: classes.length,
      counts: { train: trainFiles.length, minival: split.minival.length, test: testChecked.files.length },
      imageFolder: {
        classNames: classes, channels: cfg.channels, normalization: trainChecked.normalization,
        skipped: skipped.slice(0, 100), skippedCount: skipped.length,
      },
    };
  }

  return {
    async prepareData(ctx: RunContext): Promise<DataRef> {
      // The run id's prefix must be this config's (the CLI claimed it, or this is the first stage to run).
      await claimRunPrefix(store, ctx.runId, ctx.configHash, { adoptUnowned: true }).catch(nonRetryableInput);
      const h = dataHash(ctx.config);
      const indexKey = objectKey('runs', ctx.runId, 'prepare-data', `data-${h}.json`);
      if (await store.exists(indexKey)) return store.getJson<DataRef>(await store.refOf(indexKey));
      const cfg = ctx.config.dataset;
      if (cfg.kind === 'image-folder') {
        let ref: DataRef;
        try {
          ref = await prepareImageFolder(ctx, cfg, h);
        } catch (err) {
          nonRetryableInput(err);
        }
        await store.putJson(indexKey, ref);
        return ref;
      }
      let ds;
      try {
        ds = loadDataset(cfg, { minivalSize: ctx.config.search.minivalSize, seed: ctx.config.seed });
      } catch (err) {
        nonRetryableInput(err);
      }
      const put = async (split: string, set: ImageSet) => {
        const refs = [];
        for (const [i, shard] of packShards(set, IMAGES_PER_SHARD).entries()) {
          refs.push(await store.putBuffer(objectKey('runs', ctx.runId, 'prepare-data', `${split}-${h}-${String(i).padStart(4, '0')}.snds`), shard));
          Context.current().heartbeat({ split, shard: i });
        }
        return refs;
      };
      const ref: DataRef = {
        train: await put('train', ds.train),
        minival: await put('minival', ds.minival),
        test: await put('test', ds.test),
        imageShape: ds.imageShape,
        classes: ds.classes,
        counts: { train: ds.train.count, minival: ds.minival.count, test: ds.test.count },
      };
      await store.putJson(indexKey, ref);
      return ref;
    },
  };
}
