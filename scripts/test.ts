/**
 * The test command (`npm test`, called by `.ci/run`): installs the local servers if missing, checks
 * types and lint, starts a private Temporal dev server and MinIO on free ports in a temporary state
 * directory, runs every test with node's test runner, and stops the servers even when tests fail.
 *
 *   npm test            everything
 *   npm test -- --unit  unit tests only (no servers)
 *   npm test -- FILE…   only these test files (servers started)
 *   npm test -- FILE --test-name-pattern=RE   only the tests whose names match (passed to node --test)
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { destroyState, freePort, up } from '../infra/local';
import { ensureChromium, ensureDatasets, ensureNativeBackend, ensureTools } from '../infra/tools';

const root = join(__dirname, '..');

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out.sort();
}

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: 'inherit', env });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const unitOnly = args.includes('--unit');
  const explicit = args.filter((a) => !a.startsWith('--'));
  const nodeTestFlags = args.filter((a) => a.startsWith('--test-name-pattern='));
  const files = explicit.length ? explicit : findTests(join(root, 'test', unitOnly ? 'unit' : ''));

  const t0 = Date.now();
  const checks = [
    await exec('npx', ['tsc', '--noEmit', '-p', '.']),
    await exec('npx', ['eslint', '.']),
  ];
  console.error(`typecheck + lint: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  let stateDir: string | undefined;
  const env: NodeJS.ProcessEnv = { ...process.env, SCALENET_TEST: '1' };
  const cleanup = async () => {
    if (stateDir) await destroyState(stateDir);
    stateDir = undefined;
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void cleanup().finally(() => process.exit(130)));
  }
  try {
    await ensureDatasets((m) => console.error(m));
    await ensureNativeBackend((m) => console.error(m));
    if (!unitOnly) {
      await ensureTools((m) => console.error(m));
      await ensureChromium((m) => console.error(m));
      stateDir = await mkdtemp(join(tmpdir(), 'scalenet-test-'));
      const ep = await up({ stateDir, temporalPort: await freePort(), minioPort: await freePort() });
      console.error(`test servers: Temporal ${ep.temporalAddress}, MinIO ${ep.s3Endpoint} (state ${stateDir})`);
      Object.assign(env, {
        SCALENET_HOME: stateDir,
        TEMPORAL_ADDRESS: ep.temporalAddress,
        TEMPORAL_NAMESPACE: 'default',
        SCALENET_S3_ENDPOINT: ep.s3Endpoint,
        SCALENET_S3_ACCESS_KEY: ep.credentials.accessKey,
        SCALENET_S3_SECRET_KEY: ep.credentials.secretKey,
        SCALENET_BUCKET: 'scalenet-test',
        SCALENET_TEST_STATE_DIR: stateDir,
      });
    }
    // Unit test files two at a time (many wait on child processes they spawn); integration test files one at a
    // time: they start workers against shared servers, and CI has 2 cores.
    const unit = files.filter((f) => !f.startsWith(join('test', 'integration')));
    const integration = files.filter((f) => f.startsWith(join('test', 'integration')));
    const codes: number[] = [];
    for (const [group, concurrency] of [[unit, 2], [integration, 1]] as const) {
      if (group.length === 0) continue;
      codes.push(await exec(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...nodeTestFlags, ...group], env));
    }
    return Math.max(...codes, ...checks) === 0 ? 0 : 1;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
