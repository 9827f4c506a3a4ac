/**
 * Datasets for ScaleNet runs (DESIGN §2, issue 4).
 *
 * - {@link loadDataset}(config, {minivalSize, seed}) → {train, minival, test, imageShape, classes, normalization, augmentation}
 * - {@link BatchStream}: seeded, resumable training batches with crop/flip augmentation; `state()` is JSON.
 * - {@link sequentialBatches}: evaluation batches in order.
 * - {@link batchToTensor}: uint8 batch → normalised float tensor at the sampled resolution.
 * - {@link packShards} / {@link unpackShard} / {@link joinShards}: dataset ⇄ bytes for object storage.
 * - Readers: {@link readIdxImageSet} (IDX, `.gz` accepted), {@link readCifarDir} (CIFAR-10/100 binary),
 *   {@link syntheticDataset}. Malformed files raise {@link DatasetFormatError} naming file, offset, expectation.
 */
export * from './types';
export * from './errors';
export * from './config';
export * from './idx';
export * from './cifar';
export * from './synthetic';
export * from './batcher';
export * from './tensor';
export * from './shards';
export * from './dataset';
