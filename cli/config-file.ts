/**
 * Reading a run config file (YAML or JSON) into a validated config; errors name the file and the path. The
 * check is core's {@link validateRunConfig}, the one the run workflow repeats.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { RunConfig } from '../core/config';
import { InvalidInputError } from '../core/errors';
import { validateRunConfig } from '../core/validate';
import { UsageError } from './errors';

export function loadConfigFile(file: string): RunConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new UsageError(`${file}: not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  try {
    return validateRunConfig(value);
  } catch (err) {
    if (err instanceof InvalidInputError) throw new UsageError(`${file}: ${err.message}\n(see \`scalenet schema\` for every field and its default)`);
    throw err;
  }
}
