import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it, before } from 'node:test';
import { IntegrityError, InvalidKeyError, ObjectNotFoundError } from '../../storage/errors';
import { ArtifactStore, objectKey, sha256Hex } from '../../storage/store';
import { skipWithoutServers, testStore, uniqueId } from '../helpers/env';

describe('artifact store on a real MinIO', { skip: skipWithoutServers }, () => {
  let store: ArtifactStore;
  let prefix: string;
  before(async () => {
    store = await testStore();
    prefix = uniqueId('store');
  });

  it('records the sha256 and size of a buffer and reads it back verified', async () => {
    const data = Buffer.from('weights of a tiny network');
    const ref = await store.putBuffer(objectKey(prefix, 'a.bin'), data);
    assert.equal(ref.sha256, sha256Hex(data));
    assert.equal(ref.bytes, data.length);
    assert.deepEqual(await store.getVerified(ref), data);
    assert.deepEqual(await store.refOf(ref.key), ref, 'metadata hash equals the returned reference');
  });

  it('streams in and out with the hash verified at the end of the stream', async () => {
    const parts = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i));
    const whole = Buffer.concat(parts);
    const ref = await store.putStream(objectKey(prefix, 'stream.bin'), Readable.from(parts));
    assert.equal(ref.sha256, sha256Hex(whole));
    assert.equal(ref.bytes, whole.length);
    assert.equal((await store.refOf(ref.key)).sha256, ref.sha256);
    const chunks: Buffer[] = [];
    for await (const c of await store.getStream(ref)) chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), whole);
  });

  it('fails a read of altered bytes with an error naming the key and both hashes', async () => {
    const ref = await store.putBuffer(objectKey(prefix, 'victim.bin'), Buffer.from('original'));
    // Alter the object behind the store's back, as a disk fault or a careless hand would.
    await store.client.putObject(store.bucket, ref.key, Buffer.from('tampered'));
    const altered = sha256Hex(Buffer.from('tampered'));
    await assert.rejects(store.getVerified(ref), (err: unknown) => {
      assert.ok(err instanceof IntegrityError);
      assert.match(err.message, new RegExp(ref.key));
      assert.match(err.message, new RegExp(ref.sha256));
      assert.match(err.message, new RegExp(altered));
      return true;
    });
    const stream = await store.getStream(ref);
    await assert.rejects(async () => {
      for await (const _ of stream) void _;
    }, IntegrityError);
  });

  it('lists objects by prefix in key order', async () => {
    for (const n of ['c', 'a', 'b']) await store.putBuffer(objectKey(prefix, 'list', n), Buffer.from(n));
    const listed = await store.list(`${prefix}/list/`);
    assert.deepEqual(listed.map((o) => o.key), ['a', 'b', 'c'].map((n) => `${prefix}/list/${n}`));
    assert.deepEqual(listed.map((o) => o.bytes), [1, 1, 1]);
  });

  it('rejects keys that could escape their prefix and malformed references', async () => {
    assert.throws(() => objectKey('runs', '..', 'x'), InvalidKeyError);
    assert.throws(() => objectKey('runs', 'a/b'), /segment 1/);
    assert.throws(() => objectKey('', 'x'), /segment 0/);
    await assert.rejects(store.putBuffer('/etc/passwd', Buffer.from('x')), InvalidKeyError);
    await assert.rejects(store.putBuffer('runs/../x', Buffer.from('x')), InvalidKeyError);
    await assert.rejects(store.getVerified({ bucket: store.bucket, key: 'k', sha256: 'nothex', bytes: 1 }), /sha256/);
  });

  it('says which object is missing', async () => {
    await assert.rejects(store.refOf(objectKey(prefix, 'never-written')), ObjectNotFoundError);
    assert.equal(await store.exists(objectKey(prefix, 'never-written')), false);
  });
});
