/**
 * How the demo talks: a bold heading per step, and every CLI command shown as a user would
 * type it, followed by its real output.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../packages/cli/bin/palisade.js', import.meta.url));

/** Prints a step heading. */
export function step(text) {
  process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);
}

/** Prints an explanatory line. */
export function say(text) {
  process.stdout.write(`${text}\n`);
}

/**
 * Runs `palisade ...args`, prints the command and its output, and resolves with its exit code
 * and stdout. `expect` is the exit status the demo expects (a different one rejects).
 */
export function palisade(args, { env = {}, expect = 0, quiet = false } = {}) {
  if (!quiet) process.stdout.write(`\x1b[2m$ palisade ${args.map(quote).join(' ')}\x1b[0m\n`);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      if (!quiet) process.stdout.write(`${stdout}${stderr}`);
      if (expect !== undefined && code !== expect) reject(new Error(`palisade ${args.join(' ')} exited ${code} (expected ${expect}):\n${stdout}${stderr}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

function quote(arg) {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}
