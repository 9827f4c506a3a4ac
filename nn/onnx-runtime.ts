/**
 * Running exported ONNX models in ONNX Runtime (onnxruntime-node, CPU execution provider): logits for
 * the export check and `scalenet predict`, and the batch-1 latency the retrain stage reports.
 */
import * as ort from 'onnxruntime-node';
import { ONNX_INPUT, ONNX_OUTPUT } from './onnx';

/** Threads ONNX Runtime uses for latency unless told otherwise: one, the deployment-independent figure. */
export const LATENCY_THREADS = 1;

/** An inference session on the CPU with `threads` intra-op threads (default 1). Release it when done. */
export function onnxSession(model: Uint8Array, threads = LATENCY_THREADS): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
}

/** Logits (row-major [n, classes]) for an NCHW float32 input. */
export async function onnxLogits(session: ort.InferenceSession, input: Float32Array, dims: [number, number, number, number]): Promise<Float32Array> {
  const out = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', input, dims) });
  const y = out[ONNX_OUTPUT];
  if (!y) throw new Error(`the ONNX model has no output "${ONNX_OUTPUT}"`);
  return y.data as Float32Array;
}

/** Latency of one ONNX Runtime measurement. */
export interface OnnxLatency {
  /** Median milliseconds of one forward pass at batch 1 (after 3 warm-up runs). */
  ms: number;
  runtime: string;
  threads: number;
  batch: 1;
}

/** Median batch-1 latency of `model` (input [1, channels, r, r]) in ONNX Runtime on the CPU. */
export async function onnxLatency(model: Uint8Array, channels: number, resolution: number, args: { threads?: number; runs?: number } = {}): Promise<OnnxLatency> {
  const threads = args.threads ?? LATENCY_THREADS;
  const session = await onnxSession(model, threads);
  try {
    const input = new Float32Array(channels * resolution * resolution);
    const once = () => onnxLogits(session, input, [1, channels, resolution, resolution]);
    for (let i = 0; i < 3; i++) await once();
    const times: number[] = [];
    for (let i = 0; i < (args.runs ?? 20); i++) {
      const t = performance.now();
      await once();
      times.push(performance.now() - t);
    }
    times.sort((p, q) => p - q);
    return { ms: times[Math.floor(times.length / 2)]!, runtime: `onnxruntime-node ${ort.env.versions.common} (CPU)`, threads, batch: 1 };
  } finally {
    await session.release();
  }
}
