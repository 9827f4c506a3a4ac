/**
 * Loads the installed native backend the way the engine does (`require('@tensorflow/tfjs-node')`) and checks
 * the one thing that silently breaks it: tfjs-node must register into the *same* `@tensorflow/tfjs-core`
 * instance as the project, or the `tensorflow` backend is invisible to the engine.
 */
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/** Outcome of {@link loadNativeBackend}. `installed` is false when tfjs-node is simply absent (the optional case). */
export type NativeLoad =
  | { ok: true; tfVersion: string; tfjsNodeDir: string }
  | { ok: false; installed: boolean; reason: string };

export const SETUP_HINT = 'run `npx tsx infra/native-tf/main.ts setup`';

/**
 * Requires tfjs-node and registers its `tensorflow` backend in this process (does not make it active).
 * TensorFlow's C++ INFO lines (oneDNN notice, CPU feature guard) are silenced unless TF_CPP_MIN_LOG_LEVEL is set.
 */
export function loadNativeBackend(): NativeLoad {
  let entry: string;
  try {
    entry = require.resolve('@tensorflow/tfjs-node');
  } catch {
    return { ok: false, installed: false, reason: `@tensorflow/tfjs-node is not installed (${SETUP_HINT})` };
  }
  const tfjsNodeDir = dirname(dirname(entry));
  const ours = require.resolve('@tensorflow/tfjs-core');
  const theirs = require.resolve('@tensorflow/tfjs-core', { paths: [tfjsNodeDir] });
  if (ours !== theirs) {
    return { ok: false, installed: true, reason: `tfjs-node resolves a second @tensorflow/tfjs-core (${theirs}, project: ${ours}); its backend would be invisible. Align versions and reinstall (${SETUP_HINT})` };
  }
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
  try {
    require(entry);
  } catch (err) {
    return { ok: false, installed: true, reason: `require('@tensorflow/tfjs-node') failed: ${(err as Error).message.split('\n')[0] ?? ''} (${SETUP_HINT})` };
  }
  if (tf.findBackendFactory('tensorflow') === null) {
    return { ok: false, installed: true, reason: "@tensorflow/tfjs-node loaded but no 'tensorflow' backend is registered in the project's tfjs-core" };
  }
  const backend = tf.findBackend('tensorflow') as unknown as { binding?: { TF_Version?: string } } | null;
  return { ok: true, tfVersion: backend?.binding?.TF_Version ?? 'unknown', tfjsNodeDir };
}
