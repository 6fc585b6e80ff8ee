/**
 * Runs a command of the dataplane (`nft`, `ip`, `sysctl`) as a child process, optionally inside
 * a network namespace (`ip netns exec NS …`), with input on stdin and bounded output.
 */
import { spawn } from 'node:child_process';
import { AgentError } from '../errors.js';

/** Output kept per stream; more is cut (the kernel's error messages are short). */
export const MAX_COMMAND_OUTPUT_BYTES = 16 * 1024 * 1024;

/**
 * How a command ended: `exitCode` null when a signal killed it; the outputs are UTF-8 and cut
 * after `MAX_COMMAND_OUTPUT_BYTES` each.
 */
export interface CommandResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The argv that runs `argv` in `netns` (as is without one). */
export function inNetns(netns: string | undefined, argv: readonly string[]): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : [...argv];
}

/**
 * Runs `argv`, writes `input` to its stdin, resolves with its exit code and output. Aborting
 * `signal` kills the child (SIGKILL, by its PID) and rejects with `cancelled`.
 */
export function runCommand(argv: readonly string[], o: { input?: string; signal?: AbortSignal } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) {
      reject(new AgentError('cancelled', `${argv[0]}: cancelled before start`));
      return;
    }
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    child.stdout.on('data', (b: Buffer) => {
      if ((outBytes += b.length) <= MAX_COMMAND_OUTPUT_BYTES) out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      if ((errBytes += b.length) <= MAX_COMMAND_OUTPUT_BYTES) err.push(b);
    });
    const onAbort = (): void => void child.kill('SIGKILL');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      o.signal?.removeEventListener('abort', onAbort);
      reject(new AgentError('apply-failed', `${argv.join(' ')}: ${e.message}`, {}, { cause: e }));
    });
    child.on('close', (exitCode) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (o.signal?.aborted) {
        reject(new AgentError('cancelled', `${argv[0]}: cancelled`));
        return;
      }
      resolve({ exitCode, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(o.input ?? '');
  });
}
