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
    if (err instanceof UsageError || err instanceof ZodError || err instanceof InvalidInputError) {
      console.error(`error: ${err.message}`);
      return EXIT.badInput;
    }
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    return EXIT.other;
  }
}

/** Entry point used by bin/scalenet.js (and `tsx cli/main.ts`): runs the command and sets the exit code. */
export function run(argv: string[] = process.argv.slice(2)): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

if (require.main === module) run();
