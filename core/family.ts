/**
 * The family a run retrains (DESIGN §3.8–3.9): the searched S0..S_L, the extrapolated S_{L+1}..S_{L+K},
 * and the EfficientNet compound-scaling baselines B1..B_{L+K} of the same S0, each solved for the MACs of
 * the member it is compared with (B_s for S_s, within 1 %): equal budgets, so an accuracy difference is the
 * scaling rule's.
 */
import type { Architecture } from './arch';
import type { RunConfig } from './config';
import { resolveSpace } from './config';
import { budgetMatchedBaseline, compoundScaling, type CompoundCoefficients } from './compound';
import { extrapolateScaling, type Extrapolation } from './extrapolate';
import { countNetwork } from './flops';
import type { FamilyModel } from './pipeline';
import { scaleNetwork } from './scaling';
import type { SearchResult } from './search';
import type { SearchSpace } from './space';

export interface Family {
  models: FamilyModel[];
  /** The compound coefficients the baselines (and a compound fallback of the extrapolation) used. */
  compound: CompoundCoefficients;
  /** The fitted trend (ln m_s = a + b·s per dimension) and how the extra levels were placed. */
  extrapolation: {
    method: 'trend' | 'compound-fallback';
    /** Why the fallback was taken, when it was. */
    note: string | null;
    coefficients: Extrapolation['coefficients'] | null;
    levels: { level: number; t: number; relativeError: number }[];
  };
}

function model(space: SearchSpace, name: string, kind: FamilyModel['kind'], level: number, arch: Architecture, supernetAccuracy: number | null): FamilyModel {
  const count = countNetwork(scaleNetwork(space, arch));
  return { name, kind, level, arch, macs: count.macs, params: count.params, supernetAccuracy };
}

/**
 * Builds the family from a finished search. When the searched multipliers do not grow with the level
 * (possible on tiny searches), the trend cannot be followed upward; the extra levels then follow
 * EfficientNet's compound direction instead, and `extrapolation.method` says so.
 */
export function buildFamily(config: RunConfig, search: Pick<SearchResult, 'base' | 'strategies' | 'family'>): Family {
  const space = resolveSpace(config);
  const base = search.base;
  const L = search.strategies.length - 1;
  const K = config.extrapolation.extraLevels;
  const rounding = { resolutionMultiple: config.extrapolation.resolutionMultiple };
  const compound = config.retraining.compound;
  const models: FamilyModel[] = search.family.map((m) =>
    model(space, `S${m.level}`, 'searched', m.level, { stages: base, ...m.multipliers }, m.accuracy),
  );
  let extrapolation: Family['extrapolation'] = { method: 'trend', note: null, coefficients: null, levels: [] };
  if (K > 0) {
    try {
      const ex = extrapolateScaling(space, base, search.strategies, { extraLevels: K, ...rounding });
      extrapolation = { method: 'trend', note: null, coefficients: ex.coefficients, levels: ex.levels.map((l) => ({ level: l.level, t: l.t, relativeError: l.relativeError })) };
      for (const l of ex.levels) models.push(model(space, `S${l.level}`, 'extrapolated', l.level, { stages: base, ...l.multipliers }, null));
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      const fallback = compoundScaling(space, base, L + K, { ...rounding, ...compound }).filter((c) => c.level > L);
      extrapolation = {
        method: 'compound-fallback',
        note: `${err.message}; levels ${L + 1}..${L + K} follow the compound direction (α=${compound.alpha}, β=${compound.beta}, γ=${compound.gamma})`,
        coefficients: null,
        levels: fallback.map((c) => ({ level: c.level, t: c.t, relativeError: c.relativeError })),
      };
      for (const c of fallback) models.push(model(space, `S${c.level}`, 'extrapolated', c.level, { stages: base, ...c.multipliers }, null));
    }
  }
  // One baseline per member above S0, on that member's budget (its actual MACs, not 2^s · MACs(S0): a
  // searched S_s may sit anywhere inside its level's window).
  for (const partner of models.filter((m) => m.level >= 1)) {
    const b = budgetMatchedBaseline(space, base, partner.macs, { ...rounding, ...compound });
    models.push({
      ...model(space, `B${partner.level}`, 'baseline', partner.level, { stages: base, ...b.multipliers }, null),
      budget: { partner: partner.name, targetMacs: b.targetMacs, relativeError: b.relativeError, phi: b.phi, widthTrim: b.widthTrim, withinTolerance: b.withinTolerance },
    });
  }
  return { models, compound: { alpha: compound.alpha, beta: compound.beta, gamma: compound.gamma }, extrapolation };
}
