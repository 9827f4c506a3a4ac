import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

const coreDir = join(__dirname, '..', '..', '..', 'core');

/** Every module specifier imported or required by a TypeScript source (static, dynamic, require, export-from). */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const patterns = [
    /\bimport\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/g,
    /\bexport\s+(?:type\s+)?(?:\*|\{[^}]*\})(?:\s+as\s+\w+)?\s+from\s+['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[1]!);
  return out;
}

/** Source without comments, so prose that mentions `Math.random` or an import does not count. */
function code(file: string): string {
  return readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"])\/\/.*$/gm, '$1');
}

function coreFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? coreFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

void test('nothing under core/ imports Node built-ins, tfjs or minio (workflows import core/)', () => {
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const files = coreFiles(coreDir);
  assert.ok(files.length >= 8, 'found the core sources');
  const offenders: string[] = [];
  for (const file of files) {
    for (const spec of specifiers(code(file))) {
      const bad = builtins.has(spec) || spec.startsWith('node:') || spec.startsWith('@tensorflow/') || spec === 'minio' || spec.startsWith('minio/');
      if (bad) offenders.push(`${file}: ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});

void test('core/ reads no clock and no ambient randomness', () => {
  const offenders = coreFiles(coreDir).filter((f) => /\bMath\.random\b|\bDate\.now\b|\bnew Date\b|\bperformance\.now\b|\bprocess\./.test(code(f)));
  assert.deepEqual(offenders, []);
});

void test('the import scanner recognises every import form', () => {
  assert.deepEqual(specifiers(`import fs from 'fs';\nimport { x } from "node:path";\nimport type { Y } from './y';\nexport * from 'minio';\nconst t = require('@tensorflow/tfjs-core');\nawait import('os');\nimport 'crypto';`),
    ['fs', 'node:path', './y', 'crypto', 'minio', 'os', '@tensorflow/tfjs-core']);
});
