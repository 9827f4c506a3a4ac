/**
 * Issue 12's bounds on a worker's memory, measured in a child process (cache-memory-child.ts):
 * - the per-process dataset cache is an LRU by bytes: loading 24 distinct 7.5 MB datasets (180 MB in all) with a
 *   24 MB cache raises the peak RSS by less than the cache limit plus one load's working set over loading one;
 * - a gzip bomb (4 MB that would inflate to 4 GiB) is refused with an error naming the file: behind a valid IDX
 *   header after the size the header declares, behind none after the file's first 8 KB; the process's peak RSS
 *   grows by no more than that.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { DataRef } from '../../core/pipeline';
import { encodeIdx } from '../../data/idx';
import { packShards } from '../../data/shards';
import type { ArtifactStore } from '../../storage/store';
import { repoRoot, skipWithoutServers, testStore, uniqueId } from '../helpers/env';

const MB = 2 ** 20;
const mb = (b: number) => (b / MB).toFixed(1);
const DATASETS = 24;
const IMAGES = 10_000; // 28×28: 7.5 MB per training split
const CACHE_BYTES = 24 * MB;
/** One load's working set: the verified read, the unpacked and the joined copy of a 7.5 MB split, and allocator slack. */
const LOAD_MARGIN = 48 * MB;

function child(mode: 'datasets' | 'bomb', file: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(repoRoot, 'test', 'integration', 'cache-memory-child.ts'), mode, file],
    { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, number | string>;
}

describe('bounded memory: dataset cache and decompression cap', { skip: skipWithoutServers, timeout: 10 * 60_000 }, () => {
  let store: ArtifactStore;
  let dir: string;

  before(async () => {
    store = await testStore();
    dir = mkdtempSync(join(tmpdir(), 'scalenet-cache-mem-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`loading ${DATASETS} distinct datasets through the cache keeps the peak RSS within the cache limit of loading one`, async () => {
    const prefix = uniqueId('cache-mem');
    const small = { images: new Uint8Array(100 * 784), labels: new Int32Array(100), count: 100, height: 28, width: 28, channels: 1 };
    const held = await store.putBuffer(`runs/${prefix}/held-out.snds`, packShards(small)[0]!);
    const refs: DataRef[] = [];
    for (let d = 0; d < DATASETS; d++) {
      // Distinct bytes per dataset: distinct sha256, so each is a cache entry of its own.
      const images = new Uint8Array(IMAGES * 784).fill(d + 1);
      const labels = Int32Array.from({ length: IMAGES }, (_, i) => (i + d) % 10);
      const [shard] = packShards({ images, labels, count: IMAGES, height: 28, width: 28, channels: 1 }, IMAGES);
      const train = await store.putBuffer(`runs/${prefix}/train-${d}.snds`, shard!);
      refs.push({ train: [train], minival: [held], test: [held], imageShape: [28, 28, 1], classes: 10, counts: { train: IMAGES, minival: 100, test: 100 } });
    }
    const file = join(dir, 'refs.json');
    writeFileSync(file, JSON.stringify(refs));
    const out = child('datasets', file, { SCALENET_DATASET_CACHE_BYTES: String(CACHE_BYTES) });
    assert.equal(out.images, DATASETS * IMAGES, 'every dataset was loaded');
    const growth = (out.peakRssBytes as number) - (out.afterFirstRssBytes as number);
    const unbounded = (DATASETS - 1) * IMAGES * 784;
    console.log(`peak RSS after 1 dataset ${mb(out.afterFirstRssBytes as number)} MB, after ${DATASETS}: ${mb(out.peakRssBytes as number)} MB ` +
      `(growth ${mb(growth)} MB; cache limit ${mb(CACHE_BYTES)} MB; an unbounded cache would hold ${mb(unbounded)} MB more)`);
    assert.ok(growth < CACHE_BYTES + LOAD_MARGIN, `peak RSS grew ${mb(growth)} MB`);
  });

  it('gzip bombs are refused with an error naming the file, after no more than a valid header declares', () => {
    // 64 gzip members of 64 MiB of zeros each: 4 GiB inflated from about 4 MB (gunzip reads concatenated members).
    const zeros = gzipSync(Buffer.alloc(64 * MB), { level: 9 });
    const bombs = Array.from({ length: 64 }, () => zeros);
    const run = (name: string, header: Buffer[]) => {
      const file = join(dir, name);
      writeFileSync(file, Buffer.concat([...header, ...bombs]));
      const out = child('bomb', file);
      const growth = (out.peakRssBytes as number) - (out.beforeRssBytes as number);
      console.log(`gzip bomb ${name} (${mb(zeros.length * 64)} MB → 4096 MB): ${out.error}; peak RSS grew ${mb(growth)} MB`);
      return { error: out.error as string, growth };
    };
    // Behind a valid IDX header declaring Fashion-MNIST's training images: inflated up to the declared 47 MB only.
    const declared = 16 + 60_000 * 28 * 28;
    const valid = run('valid-header-images-idx3-ubyte.gz', [gzipSync(encodeIdx([60_000, 28, 28], new Uint8Array(0)))]);
    assert.match(valid.error, new RegExp(`^DatasetFormatError: .*valid-header-images-idx3-ubyte\\.gz.*at most ${declared} bytes inflated \\(the size its header declares\\)`));
    assert.ok(valid.growth < declared + 64 * MB, `peak RSS grew ${mb(valid.growth)} MB`);
    // Zeros only (no IDX header): refused after the first 8 KB of the file, whatever it would inflate to.
    const bare = run('zeros-images-idx3-ubyte.gz', []);
    assert.match(bare.error, /^DatasetFormatError: .*zeros-images-idx3-ubyte\.gz.*IDX data type 0x08/);
    assert.ok(bare.growth < 64 * MB, `peak RSS grew ${mb(bare.growth)} MB`);
  });
});
