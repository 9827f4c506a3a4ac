/** Exit codes of the `scalenet` command (DESIGN §5). */
export const EXIT = { ok: 0, other: 1, badInput: 2 } as const;

/** Bad input from the user (config, file, argument): exits 2 with the message, no stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
