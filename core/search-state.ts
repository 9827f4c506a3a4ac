/**
 * The state of the Markov-chain evolutionary search (DESIGN §3.7): plain JSON, small enough to carry
 * through Temporal's continue-as-new (it grows with the number of distinct evaluated architectures:
 * ~60 bytes each in the memo, plus the generation records — a few hundred kB for a paper-sized run).
 */
import type { Base, Multipliers } from './arch';
import type { RngState } from './rng';
import type { SearchSpace } from './space';

/** One architecture the search wants evaluated. `id` is its memo key: stable and unique within a search. */
export interface Candidate {
  readonly id: string;
  /** The level that asked for it (an architecture may also be a member of other levels' grids). */
  readonly level: number;
  readonly arch: { readonly stages: Base; readonly depth: number; readonly width: number; readonly resolution: number };
  /** Its MACs (audit trail; the evaluator does not need it). */
  readonly macs: number;
}

/** The evaluator's answer: accuracy on the minival split, in [0, 1]. */
export interface FitnessResult {
  readonly id: string;
  readonly fitness: number;
}

/** Search parameters, normalised from the config's `search` section. */
export interface SearchParams {
  readonly initBases: number;
  readonly rounds: number;
  readonly population: number;
  readonly generations: number;
  readonly tournamentSize: number;
  readonly mutationProb: number;
  readonly crossoverProb: number;
  readonly elites: number;
  /** Normalised weights of levels 1..L (index 0 is level 1). */
  readonly fitnessWeights: readonly number[];
}

/** A member of a recorded population. */
export interface MemberRecord {
  readonly base: Base;
  readonly fitness: number;
  /** MACs of the base at level 0. */
  readonly macs: number;
}

/** One generation of the base GA: the surviving population after it, best first. */
export interface GenerationRecord {
  readonly round: number;
  readonly generation: number;
  /** Children bred for this generation (generation 0: the initial population). */
  readonly evaluated: number;
  readonly population: readonly MemberRecord[];
  /** The strategies σ_1..σ_L the fitness was computed with. */
  readonly strategies: readonly Multipliers[];
}

/** The choice of σ_s in a round (or in the initial scoring, round = -1). */
export interface StrategyChoice {
  readonly round: number;
  readonly level: number;
  readonly candidates: readonly { readonly multipliers: Multipliers; readonly score: number }[];
  readonly chosen: Multipliers;
  /**
   * `none`: chosen among feasible, non-shrinking triples as specified; `monotone`: no feasible triple
   * kept every multiplier ≥ σ_{s−1}, so the constraint was dropped; `kept`: no triple was feasible,
   * σ_s stayed as it was.
   */
  readonly relaxed: 'none' | 'monotone' | 'kept';
}

/** Where the state machine is. */
export type SearchPhase =
  | { readonly kind: 'init' }
  | { readonly kind: 'evolve'; readonly round: number; readonly generation: number }
  | { readonly kind: 'rechoose'; readonly round: number; readonly level: number }
  | { readonly kind: 'final' }
  | { readonly kind: 'done' };

/** The whole search state. Treat as opaque; read it through the functions of `search.ts`. */
export interface SearchState {
  readonly version: 1;
  readonly seed: number;
  readonly space: SearchSpace;
  readonly params: SearchParams;
  rng: RngState;
  phase: SearchPhase;
  /** Candidates asked and not yet answered. */
  pending: Candidate[];
  /** Fitness by architecture key (see `architectureKey`). */
  memo: Record<string, number>;
  /** Answers received (= distinct architectures evaluated). */
  evaluations: number;
  /** Bases used by the initial per-level scoring. */
  initBases: Base[];
  /** σ_0..σ_L; σ_0 is (1, 1, base resolution). */
  strategies: Multipliers[];
  /** Bases waiting for fitness in the current generation. */
  members: Base[];
  /** The current round's population, best first. */
  population: { base: Base; fitness: number }[];
  /** Best bases over all rounds (distinct, best first, at most `population` entries): the elitism pool. */
  hallOfFame: { base: Base; fitness: number }[];
  generations: GenerationRecord[];
  choices: StrategyChoice[];
}
