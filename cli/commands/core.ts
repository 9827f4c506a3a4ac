/**
 * `scalenet flops`, `scalenet space` and `scalenet schema`: the pure-core commands (no servers needed).
 * Bad input throws {@link UsageError} with the offending path, which the CLI turns into exit code 2.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  baseIssues, configJsonSchema, countNetwork, getPreset, InvalidInputError, isPresetName, levelGridSize,
  parseArchFile, PRESET_NAMES, scaleNetwork, type SearchSpace,
} from '../../core';
import { UsageError } from '../errors';

function presetOrThrow(name: string, flag = '--preset'): SearchSpace {
  if (!isPresetName(name)) throw new UsageError(`${flag}: unknown preset "${name}" (available: ${PRESET_NAMES.join(', ')})`);
  return getPreset(name);
}

function asUsage(err: unknown, file: string): never {
  if (err instanceof InvalidInputError) {
    throw new UsageError(`${file}: invalid ${err.subject}:\n${err.issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
  }
  throw err;
}

/** Reads and validates an arch file (DESIGN §5); resolves its preset from --preset or the file. */
export function loadArchFile(file: string, presetFlag?: string): { space: SearchSpace; arch: { stages: number[][]; depth: number; width: number; resolution: number } } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--arch: cannot read ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  let parsed;
  try {
    parsed = parseArchFile(value);
  } catch (err) {
    asUsage(err, file);
  }
  if (presetFlag && parsed.preset && presetFlag !== parsed.preset) {
    throw new UsageError(`${file}: preset: the file says "${parsed.preset}" but --preset says "${presetFlag}"; make them agree or drop one`);
  }
  const name = presetFlag ?? parsed.preset;
  if (!name) throw new UsageError(`${file}: preset: missing; pass --preset (${PRESET_NAMES.join(', ')}) or add "preset" to the file`);
  const space = presetOrThrow(name, presetFlag ? '--preset' : `${file}: preset`);
  const issues = baseIssues(space, parsed.stages);
  if (issues.length > 0) asUsage(new InvalidInputError('architecture', issues), file);
  const { stages, depth, width, resolution } = parsed;
  return { space, arch: { stages, depth, width, resolution } };
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function table(rows: string[][], rightAligned: ReadonlySet<number>): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n');
}

/** The `flops` command's output: `{"macs":…,"params":…}` with --json, else a per-layer table and totals. */
export function flopsReport(space: SearchSpace, arch: { stages: number[][]; depth: number; width: number; resolution: number }, json: boolean): string {
  const count = countNetwork(scaleNetwork(space, arch));
  if (json) return JSON.stringify({ macs: count.macs, params: count.params });
  const shape = (s: readonly number[]) => s.join('×');
  const rows = [['layer', 'kind', 'in', 'out', 'MACs', 'params']];
  for (const l of count.layers) rows.push([l.name, l.kind, shape(l.inShape), shape(l.outShape), fmt(l.macs), fmt(l.params)]);
  rows.push(['total', '', '', '', fmt(count.macs), fmt(count.params)]);
  return `${space.name}: d ${arch.depth}, w ${arch.width}, ${arch.resolution} px\n${table(rows, new Set([4, 5]))}`;
}

/** Per level: grids, grid size, the MACs range over the whole space and the feasibility window. */
export function spaceSummary(space: SearchSpace) {
  const smallest = space.stages.map((s) => [Math.min(...s.kernels)]);
  const largest = space.stages.map((s) => Array.from({ length: s.maxDepth }, () => Math.max(...s.kernels)));
  const macs = (stages: number[][], depth: number, width: number, resolution: number) =>
    countNetwork(scaleNetwork(space, { stages, depth, width, resolution })).macs;
  return {
    name: space.name,
    inputChannels: space.inputChannels,
    classes: space.classes,
    resolution: space.resolution,
    stages: space.stages,
    flops: space.flops,
    levels: space.levels.map((l, s) => ({
      level: s,
      depth: l.depth,
      width: l.width,
      resolution: l.resolution,
      gridSize: levelGridSize(space, s),
      macsRange: {
        min: macs(smallest, Math.min(...l.depth), Math.min(...l.width), Math.min(...l.resolution)),
        max: macs(largest, Math.max(...l.depth), Math.max(...l.width), Math.max(...l.resolution)),
      },
      /** Centre of the window a base b scaled to this level must hit: 2^s · MACs(b), here for MACs(b) = target. */
      targetMacs: 2 ** s * space.flops.target,
      toleranceMacs: s === 0 ? space.flops.tolerance : 2 ** s * space.flops.scaleTolerance,
    })),
  };
}

function spaceReport(space: SearchSpace, json: boolean): string {
  const sum = spaceSummary(space);
  if (json) return JSON.stringify(sum);
  const m = (x: number) => `${(x / 1e6).toFixed(1)}M`;
  const rows = [['level', 'depth', 'width', 'resolution', 'triples', 'MACs range', 'target']];
  for (const l of sum.levels) {
    rows.push([String(l.level), l.depth.join(' '), l.width.join(' '), l.resolution.join(' '), String(l.gridSize),
      `${m(l.macsRange.min)}–${m(l.macsRange.max)}`, `${m(l.targetMacs)} ± ${m(l.toleranceMacs)}`]);
  }
  const stages = space.stages.map((s, i) => `  stage ${i}: out ${s.out}, stride ${s.stride}, t ${s.expansion}, depth ≤ ${s.maxDepth}, kernels ${s.kernels.join('/')}`);
  return [
    `${space.name}: ${space.resolution} px, ${space.inputChannels} channel(s), ${space.classes} classes; stem ${space.stem.kernel}×${space.stem.kernel}/${space.stem.stride} → ${space.stem.out}, head → ${space.head.out}`,
    ...stages,
    `base target ${m(space.flops.target)} ± ${m(space.flops.tolerance)} MACs; level s: 2^s·MACs(b) ± 2^s·${m(space.flops.scaleTolerance)}`,
    table(rows, new Set([4])),
  ].join('\n');
}

/** Registers `flops`, `space` and `schema` on the program. */
export function registerCoreCommands(program: Command): void {
  program
    .command('flops')
    .description('exact MACs and parameters of an architecture (per-layer breakdown unless --json)')
    .option('--preset <name>', `search space (${PRESET_NAMES.join(', ')}); default: the file's "preset"`)
    .requiredOption('--arch <file>', 'arch file: {"preset":"paper","stages":[[5],…],"depth":1,"width":1,"resolution":224}')
    .option('--json', 'print {"macs":…,"params":…}', false)
    .action((o: { preset?: string; arch: string; json: boolean }) => {
      const { space, arch } = loadArchFile(o.arch, o.preset);
      console.log(flopsReport(space, arch, o.json));
    });

  program
    .command('space')
    .description('a preset search space: stages, levels, grid sizes, MACs range per level')
    .requiredOption('--preset <name>', `search space (${PRESET_NAMES.join(', ')})`)
    .option('--json', 'print as JSON', false)
    .action((o: { preset: string; json: boolean }) => {
      console.log(spaceReport(presetOrThrow(o.preset), o.json));
    });

  program
    .command('schema')
    .description('JSON Schema of the run config (for editor completion)')
    .action(() => {
      console.log(JSON.stringify(configJsonSchema(), null, 2));
    });
}
