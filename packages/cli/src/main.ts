/**
 * Entry point of the `palisade` command. Each subcommand lives in `commands/<name>.ts` and
 * registers itself on the program; `main` maps the outcome to the exit code contract:
 * 0 ok, 1 refused or findings with errors, 2 usage, I/O or connection errors.
 */
import { Command, CommanderError } from 'commander';
import { EXIT, CliExit } from './exit.js';
import { COMMANDS } from './commands/index.js';
import { acceptServerOptionsAnywhere } from './configd-client.js';

/**
 * Runs `palisade` with `argv` (the arguments after the script) and resolves with the exit code
 * instead of exiting, so `bin/palisade.js` and the tests share it. A failure is printed to stderr
 * and becomes the exit code (2 for an unexpected error).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('palisade')
    .description('Palisade: the Proxmox VE firewall as a cluster system')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  let exitCode: number = EXIT.ok;
  const setExit = (code: number): void => {
    exitCode = Math.max(exitCode, code);
  };
  acceptServerOptionsAnywhere(program);
  for (const register of COMMANDS) register(program, setExit);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit "successfully" through the override as well.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliExit) {
      if (err.message) process.stderr.write(`palisade: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`palisade: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.usage;
  }
  return exitCode;
}
