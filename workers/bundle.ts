/**
 * The workflow code that workers run, bundled once per source and cached. Temporal bundles workflows with webpack
 * for its sandbox, ~4 s of CPU per worker process; the demo starts two at once and the integration tests dozens.
 * The bundle is keyed by everything it can be built from: the files of workflows/ and core/ (the only code a
 * workflow may import, enforced by the lint rules of DESIGN §2), package-lock.json (the SDK, its webpack config and
 * every library the bundle pulls in, such as zod), package.json and tsconfig.json. Hashing more than the bundle
 * uses only costs a rebuild, never a stale bundle. `SCALENET_WORKFLOW_BUNDLE_CACHE=0` bundles afresh in every
 * process, as Temporal does by default.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { keepNewest } from '../infra/cache';
import { cacheRoot } from '../infra/native-tf/config';

const repoRoot = join(__dirname, '..');
const SOURCE_DIRS = ['workflows', 'core'];
const SOURCE_FILES = ['package-lock.json', 'package.json', 'tsconfig.json'];
/** Bundles kept in the cache (the newest by modification time); older ones are deleted when a new one is written. */
const KEEP = 8;

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return filesUnder(p);
    return /\.(ts|js|json)$/.test(e.name) ? [p] : [];
  });
}

/** sha256 over the relative path and content of every file the workflow bundle can depend on, in path order. */
export function workflowSourceHash(root: string = repoRoot): string {
  const files = [...SOURCE_DIRS.flatMap((d) => filesUnder(join(root, d))), ...SOURCE_FILES.map((f) => join(root, f)).filter((f) => existsSync(f))]
    .map((f) => relative(root, f).split('\\').join('/'))
    .sort();
  const h = createHash('sha256');
  for (const f of files) {
    h.update(f).update('\0').update(readFileSync(join(root, f))).update('\0');
  }
  return h.digest('hex');
}

function bundleDir(): string {
  return join(cacheRoot(), 'workflow-bundles');
}

type WorkflowCode = { workflowBundle: { codePath: string } } | { workflowsPath: string };
let cached: Promise<WorkflowCode> | undefined;

/**
 * What `Worker.create` should load the workflows from: the cached bundle of the current sources (built and written
 * atomically when missing, so processes starting together at worst each build it once), or the workflows' path when
 * caching is off. Looked up once per process: a process with workers on several queues hashes and bundles once.
 */
export function workflowCode(): Promise<WorkflowCode> {
  const workflowsPath = require.resolve('../workflows');
  if (process.env.SCALENET_WORKFLOW_BUNDLE_CACHE === '0') return Promise.resolve({ workflowsPath });
  cached ??= cachedBundle(workflowsPath).catch((err: unknown) => {
    cached = undefined; // a failed write may succeed on the next worker's try
    throw err;
  });
  return cached;
}

async function cachedBundle(workflowsPath: string): Promise<WorkflowCode> {
  const dir = bundleDir();
  const codePath = join(dir, `workflows-${workflowSourceHash().slice(0, 16)}.js`);
  if (!existsSync(codePath)) {
    const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
    await mkdir(dir, { recursive: true });
    const tmp = `${codePath}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, code);
      await rename(tmp, codePath);
    } finally {
      await rm(tmp, { force: true });
    }
    await keepNewest(dir, KEEP, (f) => /^workflows-[0-9a-f]+\.js$/.test(f), basename(codePath));
  }
  return { workflowBundle: { codePath } };
}
