/** Exit codes of every `palisade` subcommand. */
export const EXIT = { ok: 0, refused: 1, usage: 2 } as const;
/** One of the `EXIT` values, the only codes `palisade` exits with; `CliExit` carries one to `main`. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Thrown by a command to stop with a message and an exit code (the only exception main catches). */
export class CliExit extends Error {
  override readonly name = 'CliExit';
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
  }
}
