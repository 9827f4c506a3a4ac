/**
 * The artifact store on MinIO (or any S3 store): every object is written with its sha256 recorded (in the
 * returned {@link ObjectRef} and as object metadata) and verified on every read.
 *
 * Keys are built here from validated segments, never taken raw from users: a segment may not contain `/`,
 * start with a dot, or be empty, which rules out `..` and absolute paths.
 */
import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { Client, CopyDestinationOptions, CopySourceOptions } from 'minio';
import { KEY_SEGMENT, ObjectRefSchema, type ObjectRef } from '../core/refs';
import { IntegrityError, InvalidKeyError, ObjectNotFoundError, StoreTimeoutError } from './errors';

export interface ArtifactStoreArgs {
  /** S3 endpoint URL, e.g. `http://127.0.0.1:9000`. */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** Bucket that holds every object of this store. Created by {@link ArtifactStore.ensureBucket}. */
  bucket: string;
  /** Region for bucket creation. Default `us-east-1`. */
  region?: string;
  /**
   * Milliseconds a request may wait for an answer, and a read for its next bytes, before it fails with
   * {@link StoreTimeoutError}. Default 60 000 (a stalled server must not hold an activity for hours).
   */
  requestTimeoutMs?: number;
  /** Attempts of an idempotent request on a transient failure (timeouts, refused connections). Default 3. */
  attempts?: number;
}

export interface ListedObject {
  key: string;
  bytes: number;
  lastModified: Date;
}

const SHA_META = 'sha256'; // stored as x-amz-meta-sha256

/** Joins validated segments into a key. Throws {@link InvalidKeyError} naming the bad segment. */
export function objectKey(...segments: string[]): string {
  if (segments.length === 0) throw new InvalidKeyError('an object key needs at least one segment');
  segments.forEach((s, i) => {
    if (!KEY_SEGMENT.test(s)) {
      throw new InvalidKeyError(
        `key segment ${i} (${JSON.stringify(s)}) is not allowed: use letters, digits and . _ = + - (not first), ` +
          `at most 200 characters, no slashes and no leading dot`,
      );
    }
  });
  return segments.join('/');
}

/** Checks that a full key (e.g. one read back from a listing or a manifest) is made of valid segments. */
export function assertValidKey(key: string): string {
  return objectKey(...key.split('/'));
}

/**
 * A pass-through stream that hashes what flows through it; at the end `onEnd` gets the sha256 and size
 * and may return an error to fail the stream (verification) or null (recording).
 */
function hashingStream(onEnd: (digest: { sha256: string; bytes: number }) => Error | null): Transform {
  const hash = createHash('sha256');
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      cb(onEnd({ sha256: hash.digest('hex'), bytes }));
    },
  });
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Network failures and server-side S3 errors that another attempt may not meet. */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH',
  'InternalError', 'ServiceUnavailable', 'SlowDown', 'RequestTimeout', 'XMinioServerNotInitialized']);

function isTransient(err: unknown): boolean {
  return err instanceof StoreTimeoutError || TRANSIENT_CODES.has(String((err as { code?: unknown }).code));
}

/** `work`, or a {@link StoreTimeoutError} after `ms` (the request itself is left to the socket's fate). */
async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new StoreTimeoutError(what, ms)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

/** The chunks of `src`, failing with {@link StoreTimeoutError} when none arrives for `ms` (a stalled server). */
async function* withIdleTimeout(src: Readable, ms: number, what: string): AsyncGenerator<Buffer> {
  const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    for (;;) {
      const next = await withTimeout(it.next(), ms, what);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    src.destroy();
  }
}

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchObject';
}

export class ArtifactStore {
  readonly bucket: string;
  readonly client: Client;
  private readonly region: string;
  private readonly timeoutMs: number;
  private readonly attempts: number;

  constructor(args: ArtifactStoreArgs) {
    const url = new URL(args.endpoint);
    this.client = new Client({
      endPoint: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      useSSL: url.protocol === 'https:',
      accessKey: args.accessKey,
      secretKey: args.secretKey,
      region: args.region ?? 'us-east-1',
    });
    this.bucket = args.bucket;
    this.region = args.region ?? 'us-east-1';
    this.timeoutMs = args.requestTimeoutMs ?? 60_000;
    this.attempts = Math.max(1, args.attempts ?? 3);
  }

  /**
   * Runs an idempotent request with the store's timeout, retrying transient failures with backoff (a bounded
   * number of times: the activity's own retry policy is the outer budget).
   */
  private async call<T>(what: string, op: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await withTimeout(op(), this.timeoutMs, what);
      } catch (err) {
        if (attempt >= this.attempts || !isTransient(err)) throw err;
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 5_000)));
      }
    }
  }

  /** Creates the bucket when missing. Safe to call concurrently from several workers. */
  async ensureBucket(): Promise<void> {
    if (await this.call('bucket check', () => this.client.bucketExists(this.bucket))) return;
    try {
      await this.call('bucket creation', () => this.client.makeBucket(this.bucket, this.region));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw err;
    }
  }

  /** Writes a buffer and returns its reference. */
  async putBuffer(key: string, data: Uint8Array, contentType = 'application/octet-stream'): Promise<ObjectRef> {
    assertValidKey(key);
    const sha256 = sha256Hex(data);
    await this.call(`write ${key}`, () => this.client.putObject(this.bucket, key, Buffer.from(data.buffer, data.byteOffset, data.byteLength), data.byteLength, {
      'Content-Type': contentType,
      [SHA_META]: sha256,
    }));
    return { bucket: this.bucket, key, sha256, bytes: data.byteLength };
  }

  /** Writes a JSON value (pretty-printed, so a person can read it in any S3 browser). */
  async putJson(key: string, value: unknown): Promise<ObjectRef> {
    return this.putBuffer(key, Buffer.from(JSON.stringify(value, null, 2) + '\n'), 'application/json');
  }

  /**
   * Writes a JSON value only if no object exists under `key` (S3 conditional write, `If-None-Match: *`): of
   * several writers racing for one key exactly one wins. Returns the reference when this call wrote it, null
   * when an object was there already (also when an earlier try of this very call, whose answer was lost, wrote
   * it: read the key back to know whose it is).
   */
  async putJsonIfAbsent(key: string, value: unknown): Promise<ObjectRef | null> {
    assertValidKey(key);
    const data = Buffer.from(JSON.stringify(value, null, 2) + '\n');
    const sha256 = sha256Hex(data);
    try {
      await this.call(`write ${key}`, () => this.client.putObject(this.bucket, key, data, data.byteLength, {
        'Content-Type': 'application/json',
        'If-None-Match': '*',
        [SHA_META]: sha256,
      }));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'PreconditionFailed' || code === 'ConditionalRequestConflict') return null;
      throw err;
    }
    return { bucket: this.bucket, key, sha256, bytes: data.byteLength };
  }

  /**
   * Streams an object in, hashing on the way, then records the hash as metadata (S3 metadata is fixed
   * at write time, so it is set by a server-side copy onto itself).
   */
  async putStream(key: string, source: Readable, contentType = 'application/octet-stream'): Promise<ObjectRef> {
    assertValidKey(key);
    let digest: { sha256: string; bytes: number } | undefined;
    const hashing = hashingStream((d) => {
      digest = d;
      return null;
    });
    source.on('error', (err) => hashing.destroy(err));
    await this.client.putObject(this.bucket, key, source.pipe(hashing), undefined, { 'Content-Type': contentType });
    if (!digest) throw new Error(`upload of ${key} ended before its stream did`);
    const { sha256, bytes } = digest;
    const src = new CopySourceOptions({ Bucket: this.bucket, Object: key });
    const dst = new CopyDestinationOptions({
      Bucket: this.bucket,
      Object: key,
      MetadataDirective: 'REPLACE',
      UserMetadata: { [SHA_META]: sha256 },
      Headers: { 'Content-Type': contentType },
    });
    await this.client.copyObject(src, dst);
    return { bucket: this.bucket, key, sha256, bytes };
  }

  /**
   * Reads an object whole and verifies it against the reference. Throws {@link IntegrityError} on mismatch.
   * Streamed into one buffer of the expected size while hashing (the object is held once, not twice), and
   * stopped as soon as it is longer than the reference says.
   */
  async getVerified(ref: ObjectRef): Promise<Buffer> {
    const r = this.checkRef(ref);
    return this.call(`read ${r.key}`, async () => {
      const out = Buffer.allocUnsafe(r.bytes);
      const hash = createHash('sha256');
      let n = 0;
      for await (const chunk of withIdleTimeout(await this.open(r.key), this.timeoutMs, `read ${r.key}`)) {
        if (n + chunk.length > r.bytes) throw new IntegrityError(r.bucket, r.key, r, { sha256: '(not computed: longer than expected)', bytes: n + chunk.length });
        chunk.copy(out, n);
        hash.update(chunk);
        n += chunk.length;
      }
      const actual = { sha256: hash.digest('hex'), bytes: n };
      if (actual.sha256 !== r.sha256 || actual.bytes !== r.bytes) throw new IntegrityError(r.bucket, r.key, r, actual);
      return out;
    });
  }

  /** Reads and parses a JSON object, verified against its reference. */
  async getJson<T = unknown>(ref: ObjectRef): Promise<T> {
    return JSON.parse((await this.getVerified(ref)).toString('utf8')) as T;
  }

  /**
   * Opens an object as a stream that fails with {@link IntegrityError} at its end when the bytes do not
   * match the reference. Consumers must not act on the data before the stream ends cleanly.
   */
  async getStream(ref: ObjectRef): Promise<Readable> {
    const r = this.checkRef(ref);
    const verifying = hashingStream((actual) =>
      actual.sha256 === r.sha256 && actual.bytes === r.bytes ? null : new IntegrityError(r.bucket, r.key, r, actual),
    );
    const src = await this.open(r.key);
    src.on('error', (err) => verifying.destroy(err));
    return src.pipe(verifying);
  }

  /** The reference of an existing object, from the hash recorded at write time (not re-verified). */
  async refOf(key: string): Promise<ObjectRef> {
    assertValidKey(key);
    try {
      const stat = await this.call(`stat ${key}`, () => this.client.statObject(this.bucket, key));
      const sha256 = stat.metaData?.[SHA_META] as string | undefined;
      if (!sha256) throw new IntegrityError(this.bucket, key, { sha256: '(none recorded)', bytes: stat.size }, { sha256: '(not read)', bytes: stat.size });
      return { bucket: this.bucket, key, sha256, bytes: stat.size };
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(this.bucket, key);
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    assertValidKey(key);
    try {
      await this.call(`stat ${key}`, () => this.client.statObject(this.bucket, key));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Lists objects under a prefix (recursively), sorted by key. */
  async list(prefix: string): Promise<ListedObject[]> {
    return this.call(`list ${prefix}`, async () => {
      const out: ListedObject[] = [];
      const stream = this.client.listObjectsV2(this.bucket, prefix, true);
      for await (const item of withIdleTimeout(stream, this.timeoutMs, `list ${prefix}`) as AsyncIterable<{ name?: string; size: number; lastModified: Date }>) {
        if (item.name) out.push({ key: item.name, bytes: item.size, lastModified: item.lastModified });
      }
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    });
  }

  async remove(key: string): Promise<void> {
    assertValidKey(key);
    await this.call(`remove ${key}`, () => this.client.removeObject(this.bucket, key));
  }

  private checkRef(ref: ObjectRef): ObjectRef {
    const parsed = ObjectRefSchema.safeParse(ref);
    if (!parsed.success) throw new InvalidKeyError(`invalid object reference: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    if (parsed.data.bucket !== this.bucket) throw new InvalidKeyError(`reference to bucket ${parsed.data.bucket}, but this store holds ${this.bucket}`);
    assertValidKey(parsed.data.key);
    return parsed.data;
  }

  private async open(key: string): Promise<Readable> {
    try {
      return await withTimeout(this.client.getObject(this.bucket, key), this.timeoutMs, `open ${key}`);
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(this.bucket, key);
      throw err;
    }
  }
}
