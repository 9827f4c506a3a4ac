/**
 * Generates docs/config-reference.md from the run config's zod schema (through its JSON Schema), so the
 * reference can never drift from what `scalenet run` accepts. `--check` exits 1 when the file is stale.
 *
 *   npx tsx scripts/config-reference.ts [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configJsonSchema } from '../core/config';

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  oneOf?: Schema[];
  anyOf?: Schema[];
  items?: Schema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
  minItems?: number;
};

function typeOf(s: Schema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join(' \\| ');
  const alts = s.oneOf ?? s.anyOf;
  if (alts) return alts.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `${s.items ? typeOf(s.items) : 'any'}[]`;
  if (Array.isArray(s.type)) return s.type.join(' \\| ');
  return s.type ?? 'any';
}

function constraints(s: Schema): string {
  const out: string[] = [];
  if (s.exclusiveMinimum !== undefined) out.push(`> ${s.exclusiveMinimum}`);
  if (s.minimum !== undefined) out.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined && s.maximum < 1e15) out.push(`≤ ${s.maximum}`);
  if (s.pattern) out.push(`matches \`${s.pattern}\``);
  if (s.minItems) out.push(`≥ ${s.minItems} items`);
  return out.join(', ');
}

function rows(s: Schema, path: string, out: string[][], required: boolean): void {
  const def = s.default === undefined ? (required ? '**required**' : '') : `\`${JSON.stringify(s.default)}\``;
  if (s.properties) {
    if (path) out.push([`\`${path}\``, 'object', def, '']);
    for (const [k, v] of Object.entries(s.properties)) rows(v, path ? `${path}.${k}` : k, out, s.required?.includes(k) ?? false);
    return;
  }
  const alts = s.oneOf ?? s.anyOf;
  const objects = alts?.filter((a) => a.properties) ?? [];
  if (objects.length > 0) {
    const scalars = alts!.filter((a) => !a.properties);
    out.push([`\`${path}\``, [...scalars.map(typeOf), 'object'].join(' \\| '), def, 'one of the forms below']);
    for (const o of objects) {
      const tag = Object.entries(o.properties!).find(([, v]) => v.const !== undefined);
      const label = tag ? `${path} (${tag[0]}: ${JSON.stringify(tag[1].const)})` : `${path} (object)`;
      for (const [k, v] of Object.entries(o.properties!)) rows(v, `${label}.${k}`, out, o.required?.includes(k) ?? false);
    }
    return;
  }
  out.push([`\`${path}\``, typeOf(s), def, constraints(s)]);
}

export function configReference(): string {
  const out: string[][] = [];
  rows(configJsonSchema() as Schema, '', out, true);
  return [
    '# Run config reference',
    '',
    'Generated from the zod schema in `core/config.ts` by `npx tsx scripts/config-reference.ts`; do not edit by hand.',
    'Config files are YAML or JSON. `scalenet schema` prints the JSON Schema for editor completion; the',
    'annotated examples are `examples/tiny.yaml` and `examples/demo.yaml`. The TSDoc comments in',
    '`core/config.ts` explain each field.',
    '',
    '| field | type | default | constraints |',
    '| --- | --- | --- | --- |',
    ...out.map((r) => `| ${r.join(' | ')} |`),
    '',
  ].join('\n');
}

if (require.main === module) {
  const file = join(__dirname, '..', 'docs', 'config-reference.md');
  const text = configReference();
  if (process.argv.includes('--check')) {
    const current = readFileSync(file, 'utf8');
    if (current !== text) {
      console.error(`${file} is stale: run npx tsx scripts/config-reference.ts`);
      process.exit(1);
    }
  } else {
    writeFileSync(file, text);
    console.log(file);
  }
}
