/**
 * `scalenet up` / `down` semantics on a private state directory: idempotent up, down stops exactly what
 * up started, data survives down + up, credentials file is private.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { destroyState, down, freePort, up } from '../../infra/local';
import { isRunning, readPidfile } from '../../infra/processes';
import { ArtifactStore, objectKey } from '../../storage/store';
import { skipWithoutServers } from '../helpers/env';

describe('local infrastructure (up/down)', { skip: skipWithoutServers }, () => {
  it('is idempotent, stops exactly its own processes and keeps data across down/up', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'scalenet-infra-'));
    // Credentials from the environment take precedence; this test is about the generated ones.
    const saved = { a: process.env.SCALENET_S3_ACCESS_KEY, s: process.env.SCALENET_S3_SECRET_KEY };
    delete process.env.SCALENET_S3_ACCESS_KEY;
    delete process.env.SCALENET_S3_SECRET_KEY;
    try {
      const first = await up({ stateDir, temporalPort: await freePort(), minioPort: await freePort() });
      const pidT = (await readPidfile(join(stateDir, 'run', 'temporal.pid')))!;
      const pidM = (await readPidfile(join(stateDir, 'run', 'minio.pid')))!;
      assert.ok(isRunning(pidT) && isRunning(pidM));
      assert.equal(statSync(join(stateDir, 'credentials.json')).mode & 0o777, 0o600, 'credentials are private');

      const second = await up({ stateDir });
      assert.equal(second.temporalAddress, first.temporalAddress, 'same ports on the second up');
      assert.equal((await readPidfile(join(stateDir, 'run', 'temporal.pid')))!.pid, pidT.pid, 'no second Temporal server');
      assert.equal((await readPidfile(join(stateDir, 'run', 'minio.pid')))!.pid, pidM.pid, 'no second MinIO');

      const store = new ArtifactStore({ endpoint: first.s3Endpoint, ...first.credentials, bucket: 'keep' });
      await store.ensureBucket();
      const ref = await store.putBuffer(objectKey('survives', 'down.txt'), Buffer.from('still here'));

      assert.deepEqual((await down(stateDir)).sort(), ['minio', 'temporal']);
      assert.ok(!isRunning(pidT) && !isRunning(pidM), 'both processes are gone after down');
      assert.deepEqual(await down(stateDir), [], 'a second down finds nothing to stop');

      const third = await up({ stateDir });
      assert.equal(third.s3Endpoint, first.s3Endpoint);
      assert.equal((await store.getVerified(ref)).toString(), 'still here', 'the bucket and object survived');
    } finally {
      Object.assign(process.env, { SCALENET_S3_ACCESS_KEY: saved.a, SCALENET_S3_SECRET_KEY: saved.s });
      await destroyState(stateDir);
    }
  });
});
