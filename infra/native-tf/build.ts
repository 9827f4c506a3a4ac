/**
 * Builds `@tensorflow/tfjs-node`'s binding against libtensorflow from PyPI's `tensorflow-cpu` wheel, into a cache
 * entry outside the repository (see ./config.ts for the pins and why this wheel).
 *
 * Steps: download the wheel (pip, sha256 checked) → extract the two shared libraries and the C headers → unpack
 * the tfjs-node package from npm → point a copy of its binding.gyp at the cached libraries → compile with node-gyp
 * against the local Node headers (node-gyp would otherwise download them) → smoke-load the binding and check the
 * TensorFlow version it reports → pack the package (binding included, install script removed) as a tarball.
 * Everything happens in a temporary sibling folder renamed into place at the end, so a failed or interrupted
 * build never leaves an entry that `install` would trust.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  BUILD_MARKER_FIELD, TF_WHEEL_FILE, TF_WHEEL_SHA256, TF_WHEEL_VERSION, TFJS_NODE_VERSION,
  cacheRoot, entryName, nativeTfPaths, type NativeTfPaths,
} from './config';

const execFileP = promisify(execFile);

/** The native build cannot be made here; the message says which step failed and why. */
export class NativeTfBuildError extends Error {
  constructor(step: string, detail: string) {
    super(`native TensorFlow build, step '${step}': ${detail}`);
    this.name = 'NativeTfBuildError';
  }
}

/** Runs a command; on failure the error carries its first error lines and last lines of output (a compiler log is long). */
export async function sh(step: string, cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  try {
    const { stdout } = await execFileP(cmd, args, { ...opts, maxBuffer: 64 << 20 });
    return stdout;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    const lines = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().split('\n');
    const tail = [...lines.filter((l) => /error:|fatal/i.test(l)).slice(0, 5), ...lines.slice(-8)].join('\n');
    throw new NativeTfBuildError(step, `${cmd} ${args.join(' ')} failed: ${tail || e.message}`);
  }
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function python(): Promise<string> {
  for (const cand of ['python3', 'python']) {
    try {
      await execFileP(cand, ['-m', 'pip', '--version']);
      return cand;
    } catch {
      // try the next name
    }
  }
  throw new NativeTfBuildError('wheel', "Python 3 with pip is needed to download tensorflow-cpu from PyPI (Debian: apt-get install python3-pip)");
}

/** The wheel, downloaded once and reused by later attempts until a build succeeds. */
async function fetchWheel(p: NativeTfPaths, log: (m: string) => void): Promise<string> {
  const file = join(p.wheelDir, TF_WHEEL_FILE);
  if (existsSync(file) && (await sha256(file)) === TF_WHEEL_SHA256) return file;
  log(`downloading ${TF_WHEEL_FILE} from PyPI (~230 MB)…`);
  await mkdir(p.wheelDir, { recursive: true });
  await sh('wheel', await python(), [
    '-m', 'pip', 'download', '--quiet', '--disable-pip-version-check', '--no-deps', '--only-binary=:all:',
    '--python-version', '3.11', '--implementation', 'cp', '--abi', 'cp311', '--platform', 'manylinux2014_x86_64',
    '--dest', p.wheelDir, `tensorflow-cpu==${TF_WHEEL_VERSION}`,
  ]);
  if (!existsSync(file)) throw new NativeTfBuildError('wheel', `pip finished but ${file} is missing`);
  const got = await sha256(file);
  if (got !== TF_WHEEL_SHA256) {
    await rm(file, { force: true });
    throw new NativeTfBuildError('wheel', `sha256 of ${TF_WHEEL_FILE} is ${got}, expected ${TF_WHEEL_SHA256}; deleted it`);
  }
  return file;
}

/**
 * Extracts only what the binding needs: the two libraries into `libDir` and the C API headers (plus the tsl status
 * and tstring headers they include) into `includeDir`. Python's zipfile, because pip implies Python and `unzip` may be absent.
 */
async function extractWheel(wheel: string, libDir: string, includeDir: string): Promise<void> {
  const script = `
import os, shutil, sys, zipfile
whl, lib_dir, inc_dir = sys.argv[1:4]
libs = {'tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'}
heads = ('tensorflow/include/tensorflow/c/', 'tensorflow/include/tensorflow/tsl/c/',
         'tensorflow/include/tensorflow/core/platform/ctstring', 'tensorflow/include/tensorflow/tsl/platform/ctstring')
found = set()
with zipfile.ZipFile(whl) as z:
    for name in z.namelist():
        if name.endswith('/'):
            continue
        if name in libs:
            dest = os.path.join(lib_dir, os.path.basename(name)); found.add(name)
        elif name.startswith(heads):
            dest = os.path.join(inc_dir, name[len('tensorflow/include/'):])
        else:
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(name) as src, open(dest, 'wb') as out:
            shutil.copyfileobj(src, out, 1 << 20)
        if name in libs:
            os.chmod(dest, 0o755)
missing = libs - found
if missing:
    sys.exit('wheel lacks ' + ', '.join(sorted(missing)))
`;
  await sh('extract', await python(), ['-c', script, wheel, libDir, includeDir]);
  for (const h of ['tensorflow/c/c_api.h', 'tensorflow/c/eager/c_api.h', 'tensorflow/c/kernels.h', 'tensorflow/c/ops.h', 'tensorflow/core/platform/ctstring_internal.h']) {
    if (!existsSync(join(includeDir, h))) throw new NativeTfBuildError('extract', `the wheel has no header ${h}`);
  }
}

/** npm's own node-gyp (no download), else npx. */
function nodeGyp(): [string, string[]] {
  const bundled = [
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ].find((f) => existsSync(f));
  return bundled ? [process.execPath, [bundled]] : ['npx', ['--yes', 'node-gyp']];
}

/** The Node installation's own headers; node-gyp downloads them from nodejs.org otherwise, which fails offline. */
export function nodeDir(): string {
  const dir = process.env.npm_config_nodedir ?? join(dirname(process.execPath), '..');
  if (!existsSync(join(dir, 'include', 'node', 'node_api.h'))) {
    throw new NativeTfBuildError('headers', `Node's headers are not in ${join(dir, 'include', 'node')}; install them with Node (official tarball or distribution -dev package) or set npm_config_nodedir`);
  }
  return dir;
}

/** The N-API version node-pre-gyp will look for at run time: the highest the package lists that Node supports. */
function napiBuildVersion(listed: number[]): number {
  const supported = Number(process.versions.napi);
  const v = Math.max(...listed.filter((n) => n <= supported));
  if (!Number.isFinite(v)) throw new NativeTfBuildError('binding', `Node's N-API ${supported} is older than every version tfjs-node supports (${listed.join(', ')})`);
  return v;
}

/** Compiles the binding inside `pkgDir` (an unpacked tfjs-node) and returns the path of the .node file. */
async function buildBinding(pkgDir: string, buildLibDir: string, finalLibDir: string, includeDir: string, nodedir: string): Promise<string> {
  const gypFile = join(pkgDir, 'binding.gyp');
  const gyp = await readFile(gypFile, 'utf8');
  // The stock RUNPATH ($ORIGIN/../../deps/lib) would require copying ~580 MB of libraries into every node_modules;
  // the absolute path of the cache entry keeps the installed package small.
  const origin = String.raw`-Wl,-rpath,\$$ORIGIN/../../deps/lib`;
  if (!gyp.includes(origin)) throw new NativeTfBuildError('binding', `binding.gyp of tfjs-node ${TFJS_NODE_VERSION} no longer contains '${origin}'; update build.ts`);
  await writeFile(gypFile, gyp.replace(origin, `-Wl,-rpath,${finalLibDir}`));

  // deps/ as binding.gyp expects it. The wheel has no libtensorflow.so.2: libtensorflow_cc.so.2 carries the same
  // C API (TF_* and TFE_*), so `-ltensorflow` links against it and the binding records its soname.
  await mkdir(join(pkgDir, 'deps', 'lib'), { recursive: true });
  await symlink(includeDir, join(pkgDir, 'deps', 'include'));
  await symlink(join(buildLibDir, 'libtensorflow_cc.so.2'), join(pkgDir, 'deps', 'lib', 'libtensorflow.so'));
  await symlink(join(buildLibDir, 'libtensorflow_framework.so.2'), join(pkgDir, 'deps', 'lib', 'libtensorflow_framework.so'));

  const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as { binary: { napi_versions: number[] } };
  const napi = napiBuildVersion(pkg.binary.napi_versions);
  const modulePath = join(pkgDir, 'lib', `napi-v${napi}`);
  const [cmd, pre] = nodeGyp();
  await sh('binding', cmd, [
    ...pre, 'rebuild', `--nodedir=${nodedir}`, '--jobs=2',
    '--module_name=tfjs_binding', `--module_path=${modulePath}`, `--napi_build_version=${napi}`,
  ], { cwd: pkgDir });
  const binding = join(modulePath, 'tfjs_binding.node');
  if (!existsSync(binding)) throw new NativeTfBuildError('binding', `node-gyp succeeded but ${binding} is missing`);
  return binding;
}

/** Loads the binding in a child process (a crash must not take the builder down) and returns TF_Version. */
async function smokeLoad(binding: string, libDir: string): Promise<string> {
  const code = 'const m = { exports: {} }; process.dlopen(m, process.argv[1]); process.stdout.write(String(m.exports.TF_Version));';
  // LD_LIBRARY_PATH: the RUNPATH names the final entry folder, which exists only after the rename.
  const out = await sh('smoke-load', process.execPath, ['-e', code, binding], {
    env: { ...process.env, LD_LIBRARY_PATH: libDir, TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  if (out.trim() !== TF_WHEEL_VERSION) throw new NativeTfBuildError('smoke-load', `binding reports TensorFlow ${out.trim()}, expected ${TF_WHEEL_VERSION}`);
  return out.trim();
}

/** Turns the built package into an installable tarball: no install script, no gyp rebuild, marked as ours. */
async function packPackage(pkgDir: string, destDir: string): Promise<string> {
  const pj = join(pkgDir, 'package.json');
  const pkg = JSON.parse(await readFile(pj, 'utf8')) as Record<string, unknown>;
  delete pkg.scripts; // install.js downloads libtensorflow
  delete pkg.devDependencies;
  pkg.gypfile = false; // else npm runs `node-gyp rebuild` by default when binding.gyp is present
  pkg[BUILD_MARKER_FIELD] = entryName();
  await writeFile(pj, `${JSON.stringify(pkg, null, 2)}\n`);
  for (const d of ['deps', 'build', 'binding.gyp']) await rm(join(pkgDir, d), { recursive: true, force: true });
  const out = await sh('pack', 'npm', ['pack', '--silent', '--pack-destination', destDir, pkgDir]);
  return join(destDir, out.trim().split('\n').pop() ?? '');
}

async function duSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

/** Deletes entries of earlier pins or revisions (each ~550 MB); nothing uses them once the current one exists. */
async function removeStaleEntries(root: string, log: (m: string) => void): Promise<void> {
  for (const e of await readdir(root, { withFileTypes: true })) {
    if (e.isDirectory() && e.name.startsWith('native-tf-') && e.name !== entryName()) {
      await rm(join(root, e.name), { recursive: true, force: true });
      log(`removed the stale native build ${e.name}`);
    }
  }
}

/** Contents of build-info.json. */
export interface NativeTfBuildInfo {
  entry: string;
  tfjsNode: string;
  tensorflowWheel: string;
  wheelSha256: string;
  tfVersionReported: string;
  node: string;
  builtAt: string;
  buildSeconds: number;
  entryBytes: number;
}

/**
 * Ensures the cache entry exists, building it when missing. Idempotent and instant when cached.
 * @throws NativeTfBuildError with the failing step and its output.
 */
export async function ensureNativeTfBuild(log: (m: string) => void = (m) => console.error(m)): Promise<NativeTfPaths> {
  const p = nativeTfPaths();
  if (existsSync(p.info) && existsSync(p.tarball)) return p;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new NativeTfBuildError('platform', `only linux-x64 is supported (the pinned wheel is manylinux2014_x86_64); this is ${process.platform}-${process.arch}`);
  }
  const t0 = Date.now();
  const nodedir = nodeDir(); // fail before a 230 MB download
  const root = cacheRoot();
  await mkdir(root, { recursive: true });
  const tmp = await mkdtemp(join(root, `.${entryName()}-`));
  try {
    const wheel = await fetchWheel(p, log);
    const libDir = join(tmp, 'lib');
    const includeDir = join(tmp, 'include'); // kept in the entry: nn/native's kernels compile against it
    log('extracting libtensorflow and C headers from the wheel…');
    await extractWheel(wheel, libDir, includeDir);

    log(`unpacking @tensorflow/tfjs-node@${TFJS_NODE_VERSION} from npm…`);
    const work = join(tmp, 'work');
    await mkdir(work, { recursive: true });
    const packed = (await sh('npm-pack', 'npm', ['pack', '--silent', '--pack-destination', work, `@tensorflow/tfjs-node@${TFJS_NODE_VERSION}`])).trim().split('\n').pop() ?? '';
    await sh('npm-pack', 'tar', ['xzf', join(work, packed), '-C', work]);
    const pkgDir = join(work, 'package');

    log('compiling the binding with node-gyp…');
    const binding = await buildBinding(pkgDir, libDir, p.libDir, includeDir, nodedir);
    const tfVersion = await smokeLoad(binding, libDir);
    const tarball = await packPackage(pkgDir, tmp);
    if (tarball !== join(tmp, `tensorflow-tfjs-node-${TFJS_NODE_VERSION}.tgz`)) throw new NativeTfBuildError('pack', `unexpected tarball ${tarball}`);
    await rm(work, { recursive: true, force: true });

    const info: NativeTfBuildInfo = {
      entry: entryName(), tfjsNode: TFJS_NODE_VERSION, tensorflowWheel: TF_WHEEL_FILE, wheelSha256: TF_WHEEL_SHA256,
      tfVersionReported: tfVersion, node: process.version, builtAt: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - t0) / 100) / 10, entryBytes: await duSize(tmp),
    };
    await writeFile(join(tmp, 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
    if (existsSync(p.info)) {
      await rm(tmp, { recursive: true, force: true }); // a concurrent build finished first; keep its entry
    } else {
      await rm(p.dir, { recursive: true, force: true });
      await rename(tmp, p.dir);
    }
    await rm(join(p.wheelDir, TF_WHEEL_FILE), { force: true }); // the entry never needs the wheel again
    await removeStaleEntries(root, log);
    log(`native TensorFlow built in ${info.buildSeconds} s: ${p.dir} (${(info.entryBytes / 2 ** 20).toFixed(0)} MiB)`);
    return p;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
