/**
 * The `scalenet` command. Exit codes: 0 ok, 2 bad input, 1 anything else (DESIGN §5).
 * Connection settings come from the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, SCALENET_S3_ENDPOINT,
 * SCALENET_S3_ACCESS_KEY, SCALENET_S3_SECRET_KEY, SCALENET_BUCKET), else from what `scalenet up` recorded.
 */
import { Command, CommanderError } from 'commander';
import { ZodError } from 'zod';
import { registerCompareCommand } from './commands/compare';
import { registerCoreCommands } from './commands/core';
import { registerDataCommands } from './commands/data';
import { registerDemoCommand } from './commands/demo';
import { registerExportCommand } from './commands/export';
import { registerPredictCommand } from './commands/predict';
import { registerInfraCommands } from './commands/infra';
import { registerReportCommand } from './commands/report';
import { registerRunCommands } from './commands/run';
import { InvalidInputError } from '../core/errors';
import { EXIT, UsageError } from './errors';

export function buildProgram(): Command {
  const program = new Command('scalenet')
    .description('ScaleNet neural architecture search as durable, resumable, auditable Temporal pipelines')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Connection settings (environment; defaults come from \`scalenet up\`):
  TEMPORAL_ADDRESS        Temporal frontend (default 127.0.0.1:7233)
  TEMPORAL_NAMESPACE      namespace (default "default")
  SCALENET_S3_ENDPOINT    S3/MinIO endpoint (default http://127.0.0.1:9000)
  SCALENET_S3_ACCESS_KEY, SCALENET_S3_SECRET_KEY   credentials (default: those \`up\` generated)
  SCALENET_BUCKET         bucket (default "scalenet")
  SCALENET_BACKEND        tfjs backend for workers: auto | tensorflow | wasm | cpu (default auto)
  SCALENET_FUSED_OPS      0 turns off the native backend's fused kernels (default on when built)
  SCALENET_KERNEL_THREADS threads of the fused kernels (default TF_NUM_INTRAOP_THREADS, else every core)
Exit codes: 0 ok, 2 bad input, 1 anything else.`,
    );
  registerInfraCommands(program);
  registerRunCommands(program);
  registerReportCommand(program);
  registerCompareCommand(program);
  registerExportCommand(program);
  registerPredictCommand(program);
  registerDemoCommand(program);
  registerCoreCommands(program);
  registerDataCommands(program);
  return program;
}

/**
 * What the user sees of an error: one line (input errors may list one issue per line), no stack trace
 * unless SCALENET_DEBUG=1.
 */
export function errorText(err: unknown): string {
  if (process.env.SCALENET_DEBUG === '1' && err instanceof Error && err.stack) return err.stack;
  if (err instanceof UsageError || err instanceof InvalidInputError) return `error: ${err.message}`;
  if (err instanceof ZodError) return `error: ${err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`;
  const message = err instanceof Error ? err.message : String(err);
  const first = message.split('\n').find((l) => l.trim() !== '') ?? 'failed';
  return `error: ${first.trim()}${process.env.SCALENET_DEBUG === '1' ? '' : ' (SCALENET_DEBUG=1 shows details)'}`;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return EXIT.ok;
      return EXIT.badInput; // commander already printed what was wrong
    }
    console.error(errorText(err));
    return err instanceof UsageError || err instanceof ZodError || err instanceof InvalidInputError ? EXIT.badInput : EXIT.other;
  }
}

/** Entry point used by bin/scalenet.js (and `tsx cli/main.ts`): runs the command and sets the exit code. */
export function run(argv: string[] = process.argv.slice(2)): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(errorText(err));
      process.exit(EXIT.other);
    },
  );
}

if (require.main === module) run();
