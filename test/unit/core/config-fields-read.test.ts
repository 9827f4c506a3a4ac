/**
 * Every boolean and enum field of the run config is read by something: flipped, it changes what the run
 * would do. An option that is parsed but read by nothing (as `supernet.slicing` and `supernet.augment` once
 * were) fails here, because the fields are found by walking the schema, not listed by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retrainRecipe } from '../../../activities/retrain';
import { supernetRecipe } from '../../../activities/supernet';
import { configJsonSchema, parseConfigObject, resolveSpace, type RunConfig } from '../../../core/config';
import { buildFamily } from '../../../core/family';
import { createSearch, runSearchSync } from '../../../core/search';
import { parseRecipe } from '../../../nn/recipe';
import { retrainPlan } from '../../../workflows/run';

type JsonSchema = { type?: string | string[]; enum?: unknown[]; const?: unknown; properties?: Record<string, JsonSchema>; anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; default?: unknown };

/** Paths of boolean fields and the alternatives of enum fields, from the JSON Schema of the config. */
function switches(schema: JsonSchema, path: string[] = []): { path: string[]; values: unknown[] }[] {
  const out: { path: string[]; values: unknown[] }[] = [];
  if (schema.type === 'boolean') out.push({ path, values: [true, false] });
  if (schema.enum && schema.enum.length > 1) out.push({ path, values: schema.enum });
  for (const alt of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) {
    if (alt.enum && alt.enum.length > 1) out.push({ path, values: alt.enum });
  }
  for (const [k, v] of Object.entries(schema.properties ?? {})) out.push(...switches(v, [...path, k]));
  return out;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(obj);
  let o = copy;
  for (const k of path.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[path.at(-1)!] = value;
  return copy;
}

/** What a run does with its config, as far as pure code can tell: recipes, search, family, retrain plan. */
function plan(config: RunConfig): string {
  const space = resolveSpace(config);
  const state = createSearch(config.search, space, config.seed);
  // A deterministic stand-in fitness, so the search's path (and so the family) depends on its parameters.
  const { result } = runSearchSync(state, (c) => 0.5 + ((c.arch.stages.flat().reduce((a, k) => a + k, 0) * 7 + c.arch.resolution) % 13) / 100);
  const family = buildFamily(config, result);
  return JSON.stringify({
    supernet: parseRecipe(supernetRecipe(config, 10)),
    retrain: parseRecipe(retrainRecipe(config, 10)),
    search: { params: state.params, initBases: state.initBases },
    family: family.models.map((m) => [m.name, m.arch]),
    retrainPlan: retrainPlan(config, family.models),
    dataset: config.dataset,
    resources: config.resources,
  });
}

void test('each boolean and enum option of the config, flipped, changes the recipes, the search, the family or the plan', () => {
  const base = { name: 'flip', space: 'tiny', extrapolation: { extraLevels: 1 }, search: { initBases: 1, rounds: 1, population: 4, generations: 1, tournamentSize: 2, elites: 1 } };
  const found = switches(configJsonSchema() as JsonSchema).filter((s) => s.path[0] !== 'dataset' && s.path[0] !== 'space');
  assert.ok(found.length >= 5, `found only ${found.length} switches: ${found.map((f) => f.path.join('.')).join(', ')}`);
  const unread: string[] = [];
  for (const s of found) {
    const plans = new Set(s.values.map((v) => plan(parseConfigObject(setPath(base, s.path, v)))));
    if (plans.size !== s.values.length) unread.push(`${s.path.join('.')} (${s.values.join(' / ')})`);
  }
  assert.deepEqual(unread, [], `parsed but read by nothing: ${unread.join(', ')}`);
});
