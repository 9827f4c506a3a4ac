/**
 * Compiles the engine's fused TensorFlow kernels (nn/native/scalenet_ops.cc) into a Node addon inside the native
 * cache entry: one g++ call against the entry's C headers and libtensorflow_framework, ~2 s. Keyed by the source's
 * sha256 (see {@link nativeOpsPath}), so an edited source gets its own file and a stale one is never loaded.
 * Optional like the rest of the native backend: without the addon the engine composes the same computations
 * from stock ops (slower, same results within float rounding).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NATIVE_OPS_SOURCE, nativeOpsPath, nativeTfPaths } from './config';
import { NativeTfBuildError, nodeDir, sh } from './build';

/**
 * Code generation flags. No -march=native and no FMA, so that every build gives the same numbers. -ffp-contract=off:
 * the conv kernels' AVX-512 functions (target attribute, chosen at run time) may use FMA instructions, and their only
 * fused multiply-adds must be the ones written out. -fno-trapping-math lets GCC if-convert the float selects of
 * h-swish and vectorize those loops;
 * -ffinite-math-only -fno-signed-zeros let it turn them into min/max instructions (2× faster h-swish). None changes
 * a result for finite inputs (NaN/inf activations mean the run has diverged anyway); no reassociation.
 */
const BASE_FLAGS = ['-std=c++17', '-O3', '-ffp-contract=off', '-fno-trapping-math', '-ffinite-math-only', '-fno-signed-zeros', '-fPIC', '-shared', '-pthread', '-Wall', '-Wextra', '-DNAPI_VERSION=8'];

/**
 * The vector extension of the build: AVX2 on x86-64 CPUs that have it (8 floats per instruction instead of SSE2's
 * 4; ~5 % off a training step's CPU time, bench/README.md), else the portable baseline. The results are the same
 * bits: every vectorized loop runs over channels, one lane per channel, so a wider vector only does more channels
 * at once, and -mavx2 brings no FMA (test/unit/nn/fused.test.ts builds both and compares their outputs).
 * AVX-512 is not used: GCC's code for it changed outputs in their last bits. `SCALENET_NATIVE_ISA=baseline` forces
 * the portable build.
 */
export function vectorFlags(env: NodeJS.ProcessEnv = process.env, cpuinfo: () => string = readCpuinfo): string[] {
  if (env.SCALENET_NATIVE_ISA === 'baseline' || process.arch !== 'x64') return [];
  return /^flags\s*:.*\bavx2\b/m.test(cpuinfo()) ? ['-mavx2'] : [];
}

let cpuinfoText: string | undefined;

/** /proc/cpuinfo ('' where there is none), read once per process (every addon path lookup derives the flags). */
export function readCpuinfo(): string {
  if (cpuinfoText === undefined) {
    try {
      cpuinfoText = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      cpuinfoText = '';
    }
  }
  return cpuinfoText;
}

function cxxFlags(): string[] {
  return [...BASE_FLAGS, ...vectorFlags()];
}

/** sha256 of the kernels' source and compiler flags: the key of the compiled addon. */
export function nativeOpsSourceHash(source: string = NATIVE_OPS_SOURCE): string {
  return createHash('sha256').update(readFileSync(source)).update(cxxFlags().join(' ')).digest('hex');
}

/** Where the addon of the current source and flags lives (built or not). */
export function nativeOpsAddonPath(): string {
  return nativeOpsPath(nativeOpsSourceHash());
}

/**
 * Compiles the addon unless it exists; returns its path. Needs the native entry (headers + libraries) and a C++17
 * compiler (`$CXX`, else g++).
 * @throws NativeTfBuildError naming the missing piece or the compiler's first errors.
 */
export async function ensureNativeOps(log: (m: string) => void = (m) => console.error(m)): Promise<string> {
  const out = nativeOpsAddonPath();
  if (existsSync(out)) return out;
  const p = nativeTfPaths();
  if (!existsSync(join(p.includeDir, 'tensorflow', 'c', 'kernels.h'))) {
    throw new NativeTfBuildError('fused-ops', `no TensorFlow C headers in ${p.includeDir}; build the native entry first (npx tsx infra/native-tf/main.ts build)`);
  }
  const nodeInclude = join(nodeDir(), 'include', 'node');
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  log('compiling the fused kernels (nn/native/scalenet_ops.cc)…');
  try {
    await sh('fused-ops', process.env.CXX ?? 'g++', [
      ...cxxFlags(), `-I${nodeInclude}`, `-I${p.includeDir}`, NATIVE_OPS_SOURCE, '-o', tmp,
      `-L${p.libDir}`, '-l:libtensorflow_framework.so.2', `-Wl,-rpath,${p.libDir}`,
    ]);
    await rename(tmp, out);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return out;
}
