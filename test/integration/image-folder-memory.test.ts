/**
 * Streaming keeps a worker's memory flat (issue 13): the peak RSS of a process streaming a 2,000-image and
 * a 20,000-image folder (prepared as encoded shards in the test MinIO) differs by less than 50 MB.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { DataRef } from '../../core/pipeline';
import type { ObjectRef } from '../../core/refs';
import { FASHION_MNIST_DIR } from '../../data/dataset';
import { packEncodedShard, type EncodedImage } from '../../data/encoded-shards';
import { readIdxImageSet } from '../../data/idx';
import type { ArtifactStore } from '../../storage/store';
import { repoRoot, skipWithoutServers, testStore, uniqueId } from '../helpers/env';

const PER_SHARD = 1000;

describe('streaming an image folder', { skip: skipWithoutServers, timeout: 10 * 60_000 }, () => {
  let store: ArtifactStore;
  let dir: string;
  let shards: ObjectRef[] = [];
  let test: ObjectRef[] = [];

  before(async () => {
    store = await testStore();
    dir = mkdtempSync(join(tmpdir(), 'scalenet-mem-'));
    const f = (n: string) => join(FASHION_MNIST_DIR, n);
    const set = readIdxImageSet(f('train-images-idx3-ubyte.gz'), f('train-labels-idx1-ubyte.gz'), 10);
    const prefix = uniqueId('mem');
    // Encoding is the slow part of building the folder: 1,000 distinct PNGs are encoded once and every
    // shard holds its own copy of them under its own names (distinct objects, each decoded afresh), so
    // the workers' side streams 20,000 images exactly as it would 20,000 distinct files.
    const encoded = await Promise.all(Array.from({ length: PER_SHARD }, async (_, i) => {
      const px = Buffer.from(set.images.subarray(i * 784, (i + 1) * 784));
      return { label: set.labels[i] as number, bytes: await sharp(px, { raw: { width: 28, height: 28, channels: 1 } }).resize(32, 32).png().toBuffer() };
    }));
    for (let s = 0; s < 20; s++) {
      const images: EncodedImage[] = encoded.map((e, k) => ({ label: e.label, name: `c${e.label}/${s * PER_SHARD + k}.png`, bytes: e.bytes }));
      shards.push(await store.putBuffer(`runs/${prefix}/prepare-data/train-${String(s).padStart(5, '0')}.snef`, packEncodedShard(images)));
    }
    test = shards.slice(19);
    shards = shards.slice(0, 19);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function peakRss(train: ObjectRef[]): number {
    const ref: DataRef = {
      train, minival: test, test, imageShape: [32, 32, 1], classes: 10,
      counts: { train: train.length * PER_SHARD, minival: PER_SHARD, test: PER_SHARD },
      imageFolder: { classNames: Array.from({ length: 10 }, (_, i) => `c${i}`), channels: 1, normalization: { mean: [0.29], std: [0.35] }, skipped: [], skippedCount: 0 },
    };
    const file = join(dir, `ref-${train.length}.json`);
    writeFileSync(file, JSON.stringify(ref));
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'integration', 'stream-memory-child.ts'), file], { cwd: repoRoot, encoding: 'utf8', env: process.env });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { peakRssBytes: number; images: number };
    assert.ok(out.images >= (train.length + 1) * PER_SHARD, `streamed the whole epoch and the test split (${out.images} images)`);
    return out.peakRssBytes;
  }

  it('a worker streaming 20,000 images peaks within 50 MB of one streaming 2,000', () => {
    const small = peakRss(shards.slice(0, 1).concat(shards.slice(1, 2)));
    const large = peakRss([...shards, test[0] as ObjectRef]);
    const mb = (b: number) => (b / 2 ** 20).toFixed(1);
    console.log(`peak RSS streaming 2,000 images: ${mb(small)} MB; 20,000 images: ${mb(large)} MB; difference ${mb(large - small)} MB`);
    assert.ok(large - small < 50 * 2 ** 20, `difference ${mb(large - small)} MB`);
  });
});
