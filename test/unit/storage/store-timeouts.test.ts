/**
 * The store against a server that stalls (as MinIO under SIGSTOP does): requests and reads fail with a
 * StoreTimeoutError after a bounded number of attempts instead of holding an activity for hours. A local HTTP
 * server plays the stalled store, so no MinIO is needed.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { StoreTimeoutError } from '../../../storage/errors';
import { ArtifactStore } from '../../../storage/store';

describe('store timeouts and bounded retries', () => {
  let server: Server;
  let requests = 0;
  const held: ServerResponse[] = [];
  let endpoint = '';

  before(async () => {
    server = createServer((req, res) => {
      requests += 1;
      held.push(res);
      if (req.method === 'GET') {
        // Headers and the first bytes of a 1 MB object, then nothing: a stall mid-read.
        res.writeHead(200, { 'Content-Length': String(1 << 20), 'Content-Type': 'application/octet-stream' });
        res.write(Buffer.alloc(1024));
      }
      // Anything else: no answer at all.
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const r of held) r.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const store = () => new ArtifactStore({ endpoint, accessKey: 'k', secretKey: 'secretsecret', bucket: 'bucket', requestTimeoutMs: 200, attempts: 2 });

  it('a request the server never answers fails with StoreTimeoutError after the bounded attempts', async () => {
    requests = 0;
    await assert.rejects(store().exists('runs/x/a.json'), (err: unknown) => err instanceof StoreTimeoutError && /stat runs\/x\/a\.json/.test(err.message));
    assert.equal(requests, 2);
  });

  it('a read that stalls after its first bytes fails with StoreTimeoutError instead of waiting forever', async () => {
    requests = 0;
    const ref = { bucket: 'bucket', key: 'runs/x/w.bin', sha256: '0'.repeat(64), bytes: 1 << 20 };
    await assert.rejects(store().getVerified(ref), (err: unknown) => err instanceof StoreTimeoutError && /read runs\/x\/w\.bin/.test(err.message));
    assert.equal(requests, 2);
  });
});
