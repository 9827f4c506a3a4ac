/**
 * Stage 1: prepare the data. The configured dataset is read once, its minival split is held out
 * (seeded), and all three splits are packed into shards in the store so that workers on other machines
 * read exactly the same images. Idempotent: a run that already prepared its data reuses it.
 */
import { Context } from '@temporalio/activity';
import type { RunConfig } from '../core/config';
import { canonicalJson, sha256Hex } from '../core/hash';
import type { DataRef, RunContext } from '../core/pipeline';
import { loadDataset } from '../data/dataset';
import { packShards } from '../data/shards';
import type { ImageSet } from '../data/types';
import { objectKey, type ArtifactStore } from '../storage/store';
import { claimRunPrefix } from '../storage/run-owner';
import { nonRetryableInput } from './runtime';

const IMAGES_PER_SHARD = 10_000;

/** The part of the config that decides the prepared data (so unrelated changes keep it valid). */
function dataHash(config: RunConfig): string {
  return sha256Hex(canonicalJson({ dataset: config.dataset, seed: config.seed, minivalSize: config.search.minivalSize })).slice(0, 16);
}

export function createDataActivities(store: ArtifactStore) {
  return {
    async prepareData(ctx: RunContext): Promise<DataRef> {
      // The run id's prefix must be this config's (the CLI claimed it, or this is the first stage to run).
      await claimRunPrefix(store, ctx.runId, ctx.configHash, { adoptUnowned: true }).catch(nonRetryableInput);
      const h = dataHash(ctx.config);
      const indexKey = objectKey('runs', ctx.runId, 'prepare-data', `data-${h}.json`);
      if (await store.exists(indexKey)) return store.getJson<DataRef>(await store.refOf(indexKey));
      let ds;
      try {
        ds = loadDataset(ctx.config.dataset, { minivalSize: ctx.config.search.minivalSize, seed: ctx.config.seed });
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
