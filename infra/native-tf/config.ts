/**
 * Pinned inputs and cache layout of the native TensorFlow backend (issue 7, DESIGN §6).
 *
 * `@tensorflow/tfjs-node` normally downloads libtensorflow 2.9.1 in its install script, which fails offline.
 * PyPI's `tensorflow-cpu` wheel carries the same C API in `libtensorflow_cc.so.2` (+ `libtensorflow_framework.so.2`)
 * and its C headers, so we build tfjs-node's binding against those instead. 2.12.1 is the oldest wheel that ships
 * `libtensorflow_cc.so.2`: up to 2.11 the C API lives only inside `_pywrap_tensorflow_internal.so`, which needs a
 * Python interpreter's symbols. Oldest = closest to the 2.9.1 API tfjs-node was written against.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** tfjs-node release whose binding we compile; must equal the project's `@tensorflow/tfjs-core` version. */
export const TFJS_NODE_VERSION = '4.22.0';
/** `tensorflow-cpu` wheel providing libtensorflow. */
export const TF_WHEEL_VERSION = '2.12.1';
/**
 * The exact wheel (its libraries do not depend on the Python version; cp311 matches the Python we test with)
 * and its sha256 as published on PyPI, checked after download.
 */
export const TF_WHEEL_FILE = `tensorflow_cpu-${TF_WHEEL_VERSION}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`;
export const TF_WHEEL_SHA256 = '7ffb595707a8fb376deaddc768784c7a0242b16cbc6e06393b1733b2ce19f855';

/** Marker written into the installed package.json, so `install` can tell our build from any other copy. */
export const BUILD_MARKER_FIELD = 'scalenetNativeTf';

/** Root of the tool cache (servers, native build, workflow bundles): `$SCALENET_CACHE`, else `$XDG_CACHE_HOME/scalenet`, else `~/.cache/scalenet`. */
export function cacheRoot(): string {
  return process.env.SCALENET_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'scalenet');
}

/**
 * Revision of what an entry holds, bumped when the build's output changes (r2: the C headers are kept in the
 * entry, for the engine's fused kernels in nn/native/).
 */
export const BUILD_REVISION = 2;

/** Name of the cache entry, also the build marker: changes whenever a pinned input changes. */
export function entryName(): string {
  return `native-tf-${TFJS_NODE_VERSION}-${TF_WHEEL_VERSION}-r${BUILD_REVISION}`;
}

/** Paths inside one complete cache entry (whether or not it exists yet). */
export interface NativeTfPaths {
  /** The entry folder; it exists only when the build finished and passed its smoke test. */
  dir: string;
  /** libtensorflow_cc.so.2 and libtensorflow_framework.so.2; the binding's RUNPATH points here. */
  libDir: string;
  /** The built `@tensorflow/tfjs-node` package, installable with `npm install`. */
  tarball: string;
  /** What was built, from what, and how long it took (JSON). */
  info: string;
  /** Where the wheel is kept between attempts until a build succeeds (then it is deleted). */
  wheelDir: string;
  /** TensorFlow's C API headers (kernels.h, ops.h and what they include), for the fused kernels. */
  includeDir: string;
}

export function nativeTfPaths(root: string = cacheRoot()): NativeTfPaths {
  const dir = join(root, entryName());
  return {
    dir,
    libDir: join(dir, 'lib'),
    tarball: join(dir, `tensorflow-tfjs-node-${TFJS_NODE_VERSION}.tgz`),
    info: join(dir, 'build-info.json'),
    wheelDir: join(root, 'pypi'),
    includeDir: join(dir, 'include'),
  };
}

/** Source of the engine's fused TensorFlow kernels (a Node addon that registers them; see nn/native-ops.ts). */
export const NATIVE_OPS_SOURCE = join(__dirname, '..', '..', 'nn', 'native', 'scalenet_ops.cc');

/**
 * Where the compiled fused kernels of a given source live: inside the native entry (they link against its
 * libtensorflow_framework), keyed by the source's sha256, so an edited source is rebuilt and never mistaken for
 * the old one. `SCALENET_NATIVE_OPS` overrides the path (a deployment that ships a prebuilt addon; empty = unset).
 */
export function nativeOpsPath(sourceSha256: string, root: string = cacheRoot()): string {
  return process.env.SCALENET_NATIVE_OPS || join(nativeTfPaths(root).dir, 'ops', `scalenet_ops-${sourceSha256.slice(0, 16)}.node`);
}
