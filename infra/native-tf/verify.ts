/**
 * The acceptance check of an installed native backend, run by `main.ts verify` (and by `install`, in a child
 * process): it loads as the engine loads it, becomes the active backend, and agrees with `cpu` on every op case.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { rmSync } from 'node:fs';
import { loadFusedOps } from '../../nn/native-ops';
import { EQUIVALENCE_TOLERANCE, compareBackends, compareFusedToComposite, type EquivalenceResult } from './equivalence';
import { loadNativeBackend } from './load';
import { nativeOpsAddonPath } from './ops';

/** One report line per case, the cases beyond {@link EQUIVALENCE_TOLERANCE} (or not finite), the worst error. */
function summarize(results: EquivalenceResult[]): { lines: string[]; bad: EquivalenceResult[]; worst: number } {
  return {
    lines: results.map((r) => `  ${r.maxRelErr <= EQUIVALENCE_TOLERANCE ? 'ok ' : 'BAD'} ${r.name}: max rel err ${r.maxRelErr.toExponential(2)}`),
    bad: results.filter((r) => !(r.maxRelErr <= EQUIVALENCE_TOLERANCE)),
    worst: Math.max(...results.map((r) => r.maxRelErr)),
  };
}

/**
 * @returns a report: one line per op case and a summary line.
 * @throws Error naming the failing cases, or why the backend did not load.
 */
export async function verifyNative(): Promise<string> {
  const loaded = loadNativeBackend();
  if (!loaded.ok) throw new Error(loaded.reason);
  if (!(await tf.setBackend('tensorflow')) || tf.getBackend() !== 'tensorflow') throw new Error("setBackend('tensorflow') failed");
  const results = await compareBackends('tensorflow', 'cpu');
  const { lines, bad, worst } = summarize(results);
  if (bad.length > 0) {
    throw new Error(`${lines.join('\n')}\nnative backend disagrees with cpu beyond ${EQUIVALENCE_TOLERANCE} on: ${bad.map((r) => r.name).join(', ')}`);
  }
  lines.push(`native TensorFlow ${loaded.tfVersion} (${loaded.tfjsNodeDir}): backend 'tensorflow', ${results.length} op checks vs cpu, worst rel err ${worst.toExponential(2)}`);
  lines.push(verifyFusedKernels());
  return lines.join('\n');
}

/**
 * The fused kernels against the composite ops on the same backend. They are optional on top of the backend: a
 * kernel that disagrees gets the addon deleted (the engine then composes stock ops) instead of failing the backend.
 */
function verifyFusedKernels(): string {
  const missing = loadFusedOps();
  if (missing !== null) return `fused kernels: not in use (${missing})`;
  const { lines, bad, worst } = summarize(compareFusedToComposite());
  if (bad.length > 0) {
    rmSync(nativeOpsAddonPath(), { force: true });
    return `${lines.join('\n')}\nfused kernels disagree with the composite ops on ${bad.map((r) => r.name).join(', ')}: addon deleted, the engine composes stock ops instead`;
  }
  return `${lines.join('\n')}\nfused kernels: ${lines.length} checks vs the composite ops, worst rel err ${worst.toExponential(2)}`;
}
