/**
 * Helpers for integration tests: the servers `scripts/test.ts` started (through the environment), worker
 * processes that can be SIGKILLed, and condition waits with deadlines (never sleeps).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { resolveSettings, type Settings } from '../../infra/settings';
import { storeFromSettings } from '../../workers/main';
import type { ArtifactStore } from '../../storage/store';

export const repoRoot = join(__dirname, '..', '..');

/** True when the test servers are up (set by scripts/test.ts). */
export const haveServers = Boolean(process.env.SCALENET_TEST_STATE_DIR);
export const skipWithoutServers = haveServers ? false : 'needs the test servers: run through `npm test`';

export async function testSettings(): Promise<Settings> {
  return resolveSettings();
}

export async function testStore(): Promise<ArtifactStore> {
  const store = storeFromSettings(await testSettings());
  await store.ensureBucket();
  return store;
}

export async function testClient(address?: string): Promise<{ client: Client; close: () => Promise<void> }> {
  const s = await testSettings();
  const connection = await Connection.connect({ address: address ?? s.temporalAddress });
  return { client: new Client({ connection, namespace: s.temporalNamespace }), close: () => connection.close() };
}

/** Polls until `check` returns a value; fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves when the worker says it is polling. */
  ready: Promise<void>;
  exited: Promise<number | null>;
}

/** Starts `scalenet worker` as a separate process (so it can be SIGKILLed like a crashed machine). */
export function spawnWorker(opts: { queue: string; identity?: string; env?: NodeJS.ProcessEnv; concurrency?: number }): WorkerProcess {
  const args = [join(repoRoot, 'bin', 'scalenet.js'), 'worker', '--queue', opts.queue];
  if (opts.concurrency !== undefined) args.push('--concurrency', String(opts.concurrency));
  if (opts.identity) args.push('--identity', opts.identity);
  const env = { ...process.env, SCALENET_HEARTBEAT_THROTTLE_MS: '200', SCALENET_EXIT_WITH_PARENT: '1', ...opts.env };
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes(' polling ')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before polling:\n${out}`)));
  });
  ready.catch(() => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, ready, exited };
}

/** A unique id for a test's workflows and keys. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}
