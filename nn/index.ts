/**
 * The TensorFlow.js engine of ScaleNet (DESIGN §3.3–3.6, §3.9, issue 4).
 *
 * Backend
 * - `initBackend(kind: 'auto'|'wasm'|'cpu'|'tensorflow', {log}) → Promise<name>`: native tfjs-node(-gpu)
 *   when loadable, else wasm with the missing conv gradients supplied; logs the choice.
 *
 * Super-supernet training (one hierarchically sampled path per step)
 * - `SupernetTrainer.create({space, data, recipe, seed})`, `.train(steps, onProgress)`, `.step`,
 *   `.serialize() → {header, bytes}`, `SupernetTrainer.restore({space, data}, state)`, `.dispose()`.
 *   The header is small JSON (shapes, step, sampler RNG, data order); bytes are float32 weights + momentum.
 *
 * Evaluation with shared weights
 * - `evaluateSubnetwork(trainerOrSource, arch, data, {bn, recalibration, split, maxImages, cache})
 *   → {accuracy, correct, total, key, cached}`; `EvaluationCache` memoises by architecture, multipliers,
 *   resolution, options and weights step.
 *
 * Standalone networks
 * - `retrain({space, arch, data, recipe, seed, onProgress}) → {model, testAccuracy, minivalAccuracy, steps}`;
 *   or drive `StandaloneTrainer` (same state API as the supernet) and call `finishRetraining(trainer)`.
 * - `buildStandaloneModel(space, arch, {weights: 'fresh' | {params, stats}})`, `extractSubnetworkModel(...)`.
 * - `exportModel(model, dir)` → model.json + weights.bin; `loadModel(dir)` via `tf.loadLayersModel`.
 *   Loading in another program requires importing `nn/layers` first (registers the h-swish/h-sigmoid layers).
 *
 * Long loops yield to the event loop between steps and batches so Temporal heartbeats go out.
 */
export * from './backend';
export * from './recipe';
export * from './trainer';
export * from './evaluate';
export * from './layers';
export * from './io';
export * from './retrain';
export { networkParams, superSupernetParams, type ParamSpec } from './params';
export { ParamStore } from './store';
