/**
 * An image folder under an `s3://bucket/prefix` of the run's object store (MinIO locally, any S3 in a
 * cluster). Keys are read with the store's client as they are: user folders need not follow the
 * artifact store's key rules.
 */
import type { Client } from 'minio';
import type { FileSource } from './image-folder';
import { BadImageError } from './image-decode';

/** A {@link FileSource} over `s3://bucket/prefix` (`prefix` ends with '/' or is empty). */
export function s3Source(client: Client, bucket: string, prefix: string): FileSource {
  const root = `s3://${bucket}/${prefix.replace(/\/$/, '')}`;
  return {
    root,
    async list() {
      const files: string[] = [];
      const folders = new Set<string>();
      try {
        const stream = client.listObjectsV2(bucket, prefix, true);
        for await (const item of stream as AsyncIterable<{ name?: string }>) {
          if (!item.name) continue;
          const rel = item.name.slice(prefix.length);
          const slash = rel.indexOf('/');
          if (slash > 0) folders.add(rel.slice(0, slash));
          // "class/" marker objects (what consoles create for an empty folder) are folders, not files.
          if (!rel.endsWith('/')) files.push(rel);
        }
      } catch (err) {
        throw new BadImageError(root, `cannot list this prefix: ${(err as Error).message}`);
      }
      if (files.length === 0 && folders.size === 0) throw new BadImageError(root, 'no objects under this prefix; an image-folder source has one sub-folder per class');
      return { files: files.sort(), folders: [...folders].sort(), loops: [] };
    },
    async read(path) {
      const chunks: Buffer[] = [];
      for await (const chunk of await client.getObject(bucket, prefix + path)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
  };
}
