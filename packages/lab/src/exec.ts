/**
 * Running the system tools the lab needs (`ip`, `nft`, `sysctl`, `ping`, `conntrack`) with
 * bounded time and an abort signal, and the lab's one error type.
 */
import { spawn } from 'node:child_process';

/** Every code a `LabError` can carry, as a list so the set is closed and a code can be checked at runtime. */
export const LAB_ERROR_CODES = ['missing-tool', 'command-failed', 'agent-failed', 'timeout', 'aborted', 'apply-failed', 'conntrack-not-empty'] as const;
/** One of `LAB_ERROR_CODES`, the type of `LabError.code`, so a caller's switch over it can be exhaustive. */
export type LabErrorCode = (typeof LAB_ERROR_CODES)[number];

/** The lab's error: a closed code, the command involved and its stderr. */
export class LabError extends Error {
  override readonly name = 'LabError';
  constructor(
    readonly code: LabErrorCode,
    message: string,
    readonly context: { readonly command?: string; readonly stderr?: string; readonly tool?: LabTool } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Every program the lab runs (besides Node itself), with the Debian package that provides it:
 * `ip` builds namespaces and addresses, `nft` loads the ruleset, `sysctl` sets the forwarding
 * and br_netfilter switches, `ping` sends the ICMP echo cases (inside a namespace, from the
 * agent), `conntrack` empties the host namespace's connection table between cases.
 */
export const LAB_TOOLS = {
  ip: { package: 'iproute2', versionArgs: ['-V'] },
  nft: { package: 'nftables', versionArgs: ['--version'] },
  sysctl: { package: 'procps', versionArgs: ['--version'] },
  ping: { package: 'iputils-ping', versionArgs: ['-V'] },
  conntrack: { package: 'conntrack', versionArgs: ['--version'] },
} as const;
/**
 * Name of a program in `LAB_TOOLS`; a `missing-tool` error carries it in `context.tool` so the
 * caller can name the package to install.
 */
export type LabTool = keyof typeof LAB_TOOLS;

function isLabTool(name: string): name is LabTool {
  return Object.hasOwn(LAB_TOOLS, name);
}

/** The `missing-tool` error for a program, naming the Debian package that installs it. */
export function missingToolError(tool: string, where: string, cause?: unknown): LabError {
  const install = isLabTool(tool) ? ` (install it: apt-get install -y ${LAB_TOOLS[tool].package})` : '';
  return new LabError('missing-tool', `${tool} not found${where}${install}`, { command: tool, ...(isLabTool(tool) ? { tool } : {}) }, cause !== undefined ? { cause } : undefined);
}

/** Outcome of a finished `run`: the exit code (-1 when a signal ended the program) and all of stdout and stderr, as text. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of `run`. Without `input` the child's stdin is closed at once, so a program that reads it does not wait forever. */
export interface RunOptions {
  readonly input?: string;
  /** Default 30 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Throw `command-failed` on a non-zero exit (default true). A missing program always throws `missing-tool`. */
  readonly check?: boolean;
  /** Environment of the child (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/** What `ip netns exec` prints when the program it should run does not exist. */
const NETNS_EXEC_ENOENT = /exec of "([^"]+)" failed: No such file or directory/;

/**
 * Runs a command to completion; kills it (by its own PID) on timeout or abort. A program
 * that does not exist — the command itself, or the program `ip netns exec NS PROG` should
 * start — is a `missing-tool` error naming its Debian package, whatever `check` says.
 */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { input, timeoutMs = 30_000, signal, check = true, env } = options;
  const text = `${cmd} ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new LabError('aborted', `aborted before: ${text}`, { command: text }));
      return;
    }
    const child = spawn(cmd, [...args], { stdio: ['pipe', 'pipe', 'pipe'], ...(env ? { env } : {}) });
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
      finish(e.code === 'ENOENT' ? missingToolError(cmd, '', e) : new LabError('command-failed', `${text}: ${e.message}`, { command: text }, { cause: e }));
    });
    child.on('close', (code) => {
      const res = { code: code ?? -1, stdout, stderr };
      const inner = cmd === 'ip' && args[0] === 'netns' && args[1] === 'exec' && res.code !== 0 ? NETNS_EXEC_ENOENT.exec(stderr) : null;
      if (inner) finish(missingToolError(inner[1] as string, ` in namespace ${args[2] ?? '?'}`));
      else if (check && res.code !== 0) finish(new LabError('command-failed', `${text} failed (${res.code}): ${stderr.trim()}`, { command: text, stderr }));
      else finish(undefined, res);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** Options of `ipBatch`: those of `run` (its `input` is replaced by the batch lines) and `force`. */
export interface IpBatchOptions extends RunOptions {
  /** `ip -force -batch`: go on after a failing line (for undo lists, where some lines may not apply). */
  readonly force?: boolean;
}

/** Runs `ip -batch -` in a namespace (or the current one when ns is undefined). */
export async function ipBatch(ns: string | undefined, lines: readonly string[], options: IpBatchOptions = {}): Promise<RunResult | undefined> {
  if (lines.length === 0) return undefined;
  const args = [...(ns !== undefined ? ['-n', ns] : []), ...(options.force ? ['-force'] : []), '-batch', '-'];
  return run('ip', args, { ...options, input: `${lines.join('\n')}\n` });
}

/** Options of `labPrerequisites`; pass the `env` the lab will run with, so the check searches the same `PATH`. */
export interface LabPrerequisiteOptions {
  /** Environment whose `PATH` is searched (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
}

/**
 * Checks that the lab can run here: root, and every program of `LAB_TOOLS` present (each is
 * started with its version flag; nothing touches the caller's network namespace). Returns a
 * reason naming every missing program and its Debian package, or undefined when all is there.
 */
export async function labPrerequisites(options: LabPrerequisiteOptions = {}): Promise<string | undefined> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return 'the lab needs root (it creates network namespaces and loads nftables rules in them)';
  }
  const missing: string[] = [];
  for (const [tool, { package: pkg, versionArgs }] of Object.entries(LAB_TOOLS)) {
    try {
      await run(tool, versionArgs, { timeoutMs: 5000, ...(options.env ? { env: options.env } : {}), ...(options.signal ? { signal: options.signal } : {}) });
    } catch (err) {
      if (err instanceof LabError && err.code === 'missing-tool') missing.push(`${tool} (package ${pkg})`);
      else return `${tool} does not work: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  if (missing.length === 0) return undefined;
  const pkgs = Object.entries(LAB_TOOLS)
    .filter(([t]) => missing.some((m) => m.startsWith(`${t} `)))
    .map(([, v]) => v.package);
  return `the lab needs ${missing.join(', ')}: apt-get install -y ${pkgs.join(' ')}`;
}
