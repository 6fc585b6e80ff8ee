/**
 * Running the system tools the lab needs (`ip`, `nft`, `conntrack`) with bounded time and an
 * abort signal, and the lab's one error type.
 */
import { spawn } from 'node:child_process';

export const LAB_ERROR_CODES = ['not-root', 'missing-tool', 'command-failed', 'agent-failed', 'timeout', 'aborted', 'apply-failed'] as const;
export type LabErrorCode = (typeof LAB_ERROR_CODES)[number];

/** The lab's error: a closed code, the command involved and its stderr. */
export class LabError extends Error {
  override readonly name = 'LabError';
  constructor(
    readonly code: LabErrorCode,
    message: string,
    readonly context: { readonly command?: string; readonly stderr?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly input?: string;
  /** Default 30 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Throw `command-failed` on a non-zero exit (default true). */
  readonly check?: boolean;
}

/** Runs a command to completion; kills it (by its own PID) on timeout or abort. */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { input, timeoutMs = 30_000, signal, check = true } = options;
  const text = `${cmd} ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new LabError('aborted', `aborted before: ${text}`, { command: text }));
      return;
    }
    const child = spawn(cmd, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let done = false;
    const finish = (err: Error | undefined, res?: RunResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(res as RunResult);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new LabError('timeout', `timed out after ${timeoutMs} ms: ${text}`, { command: text, stderr }));
    }, timeoutMs);
    const onAbort = (): void => {
      child.kill('SIGKILL');
      finish(new LabError('aborted', `aborted: ${text}`, { command: text }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => {
      finish(
        e.code === 'ENOENT'
          ? new LabError('missing-tool', `${cmd} not found (install it: apt-get install -y ${cmd === 'nft' ? 'nftables' : cmd === 'ip' ? 'iproute2' : cmd})`, { command: text }, { cause: e })
          : new LabError('command-failed', `${text}: ${e.message}`, { command: text }, { cause: e }),
      );
    });
    child.on('close', (code) => {
      const res = { code: code ?? -1, stdout, stderr };
      if (check && res.code !== 0) finish(new LabError('command-failed', `${text} failed (${res.code}): ${stderr.trim()}`, { command: text, stderr }));
      else finish(undefined, res);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** Runs `ip -batch -` in a namespace (or the current one when ns is undefined). */
export async function ipBatch(ns: string | undefined, lines: readonly string[], options: RunOptions = {}): Promise<RunResult | undefined> {
  if (lines.length === 0) return undefined;
  const args = ns !== undefined ? ['-n', ns, '-batch', '-'] : ['-batch', '-'];
  return run('ip', args, { ...options, input: `${lines.join('\n')}\n` });
}

/** Checks that we may build namespaces: root and the tools present. Returns a reason when not. */
export async function labPrerequisites(): Promise<string | undefined> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return 'the lab needs root (it creates network namespaces and loads nftables rules in them)';
  }
  for (const [tool, args] of [
    ['ip', ['-V']],
    ['nft', ['--version']],
  ] as const) {
    try {
      await run(tool, args, { timeoutMs: 5000 });
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
  return undefined;
}
