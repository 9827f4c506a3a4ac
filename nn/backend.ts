/**
 * Backend selection (DESIGN §6): native TensorFlow when it is installed and loads, otherwise the
 * pure-npm wasm backend with the missing convolution gradients supplied (see ./gradients.ts); `cpu`
 * stays available as the slow, complete reference.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { installConvGradients } from './gradients';
import { fusedOpsActive, loadFusedOps } from './native-ops';

/** What a caller may ask for. `auto` = tfjs-node-gpu, then tfjs-node, then wasm. */
export type BackendKind = 'auto' | 'wasm' | 'cpu' | 'tensorflow';

/** Options of {@link initBackend}. */
export interface InitBackendArgs {
  /** Where to report which backend runs. Default: `console.log`. Pass `() => {}` to silence. */
  log?: (line: string) => void;
}

/** Raised when the requested backend cannot be loaded; `auto` never raises it. */
export class BackendUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}

/**
 * Tries to load a native binding. The packages are optional dependencies whose install step downloads
 * libtensorflow, which fails offline; `require` is wrapped so their absence only means "not available".
 * Returns the failure reason, or null when the package registered its `tensorflow` backend.
 */
function tryNative(pkg: string): string | null {
  try {
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '1'; // hide TensorFlow's oneDNN / CPU-feature notices
    require(pkg);
    return tf.findBackendFactory('tensorflow') !== null ? null : `${pkg} loaded but registered no 'tensorflow' backend`;
  } catch (err) {
    return `${pkg}: ${(err as Error).message.split('\n')[0] ?? ''}`;
  }
}

/**
 * Selects and initialises a tfjs backend and returns its name (`tensorflow`, `wasm` or `cpu`).
 * The conv gradients for wasm are installed for every choice (they delegate to native kernels where
 * those exist), so switching backends later in the same process stays safe.
 *
 * @throws BackendUnavailableError when `tensorflow` is requested but neither native package loads.
 */
export async function initBackend(kind: BackendKind = 'auto', args: InitBackendArgs = {}): Promise<string> {
  const log = args.log ?? ((line: string) => console.log(line));
  installConvGradients();
  const reasons: string[] = [];
  if (kind === 'auto' || kind === 'tensorflow') {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      const why = tryNative(pkg);
      if (why === null) {
        if (await tf.setBackend('tensorflow')) {
          await tf.ready();
          installConvGradients(); // the native package's tfjs bundle re-registered the stock gradients
          const noFused = loadFusedOps();
          const fused = noFused !== null ? `fused kernels unavailable: ${noFused}` : fusedOpsActive() ? 'fused kernels' : 'fused kernels off (SCALENET_FUSED_OPS=0)';
          log(`[nn] backend tensorflow (${pkg}; ${fused})`);
          return 'tensorflow';
        }
        reasons.push(`${pkg}: setBackend('tensorflow') failed`);
      } else {
        reasons.push(why);
      }
    }
    if (kind === 'tensorflow') {
      throw new BackendUnavailableError(`native TensorFlow backend unavailable: ${reasons.join('; ')}. Install @tensorflow/tfjs-node(-gpu) with network access, or use --backend wasm`);
    }
  }
  installConvGradients(); // again: a native package that failed half-way may have overridden ours
  const name = kind === 'cpu' ? 'cpu' : 'wasm';
  if (!(await tf.setBackend(name))) throw new BackendUnavailableError(`tfjs backend '${name}' failed to initialise`);
  await tf.ready();
  const extra = name === 'wasm' ? ` (simd=${String(tf.env().getBool('WASM_HAS_SIMD_SUPPORT'))}, conv gradients supplied)` : '';
  log(`[nn] backend ${name}${extra}${reasons.length > 0 && kind === 'auto' ? `; native unavailable: ${reasons.join('; ')}` : ''}`);
  return name;
}

/**
 * Environment that sizes a process's tensor thread pools: TensorFlow's intra- and inter-op pools and the fused
 * kernels' pool. TensorFlow reads it once, when it starts (the first op), so it must be set before that.
 */
export function threadEnv(threads: number): Record<string, string> {
  const n = String(threads);
  return { TF_NUM_INTRAOP_THREADS: n, TF_NUM_INTEROP_THREADS: n, SCALENET_KERNEL_THREADS: n };
}

/** Name of the active backend, e.g. for benchmark records. */
export function backendName(): string {
  return tf.getBackend();
}
