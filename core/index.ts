/**
 * ScaleNet core: pure, deterministic algorithm code (no I/O, no tfjs, no Node built-ins), safe to import
 * from Temporal workflows. See DESIGN §3 for the algorithm this implements.
 */
export * from './errors';
export * from './rng';
export * from './space';
export * from './presets';
export * from './arch';
export * from './scaling';
export * from './prefix-sharing';
export * from './flops';
export * from './feasibility';
export * from './sampler';
export * from './hash';
export * from './config';
export * from './evolution';
export * from './search';
export * from './trend';
export * from './extrapolate';
export * from './compound';
export * from './validate';
