import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVER_TLS_ARGS, SILENT_LOGGER, parseServiceCommandLine, splitList, stringArgs, withCloser } from './index.js';

/**
 * process.exit(code) for code > 0 as a throw, so that a usage error stops the code under test as
 * it would stop the process; exit(0) after a clean stop is only recorded.
 */
class Exited extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function fakeProcess(): EventEmitter & { out: string; err: string; codes: number[]; stdout: { write(s: string): boolean }; stderr: { write(s: string): boolean }; exit(code: number): never } {
  const p = Object.assign(new EventEmitter(), { out: '', err: '', codes: [] as number[] });
  return Object.assign(p, {
    stdout: { write: (s: string) => ((p.out += s), true) },
    stderr: { write: (s: string) => ((p.err += s), true) },
    exit(code: number): never {
      p.codes.push(code);
      if (code !== 0) throw new Exited(code);
      return undefined as never;
    },
  });
}

const SPEC = {
  program: 'palisade-demo',
  version: '1.2.3',
  help: 'Usage: palisade-demo --node NAME\n',
  options: { ...stringArgs('node', 'count', 'secret'), ...SERVER_TLS_ARGS, 'dry-run': { type: 'boolean' } },
  required: ['node'],
} as const;

const dir = mkdtempSync(join(tmpdir(), 'command-line-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(argv: string[]): { p: ReturnType<typeof fakeProcess>; cli?: ReturnType<typeof parseServiceCommandLine<typeof SPEC.options>>; code?: number } {
  const p = fakeProcess();
  try {
    return { p, cli: parseServiceCommandLine(SPEC, argv, p) };
  } catch (e) {
    if (e instanceof Exited) return { p, code: e.code };
    throw e;
  }
}

describe('parseServiceCommandLine', () => {
  it('prints help and version and returns nothing to run', () => {
    const help = run(['--help']);
    expect([help.cli, help.p.out, help.p.codes]).toEqual([undefined, SPEC.help, []]);
    const version = run(['-V']);
    expect(version.p.out).toBe('palisade-demo 1.2.3\n');
  });

  it('parses the service options with their types and the log level', () => {
    const { cli } = run(['--node', 'pve1', '--dry-run', '--log-level', 'debug']);
    expect(cli?.values.node).toBe('pve1');
    expect(cli?.values['dry-run']).toBe(true);
    expect(cli?.logLevel).toBe('debug');
    expect(run(['--node', 'pve1']).cli?.logLevel).toBe('info');
  });

  it('refuses unknown flags, missing required ones and bad levels with exit 2 and the hint', () => {
    for (const [argv, text] of [
      [['--node', 'a', '--bogus'], "Unknown option '--bogus'"],
      [[], '--node is required'],
      [['--node', 'a', '--log-level', 'loud'], "--log-level expects one of fatal, error, warn, info, debug, trace, silent, got 'loud'"],
    ] as const) {
      const r = run([...argv]);
      expect(r.code).toBe(2);
      expect(r.p.err).toContain(`palisade-demo: ${text}`);
      expect(r.p.err).toContain("Try 'palisade-demo --help'.");
    }
  });

  it('reads files named by flags, and names flag, path and reason when it cannot', () => {
    const secret = join(dir, 'secret');
    writeFileSync(secret, ' s3cret \nsecond line\n');
    const { cli, p } = run(['--node', 'a']);
    expect(cli!.readFirstLine(secret, '--secret')).toBe('s3cret');
    expect(cli!.parseFile(secret, '--secret', (text, path) => `${path}:${text.length}`)).toBe(`${secret}:21`);
    expect(() => cli!.readFile(join(dir, 'missing'), '--secret')).toThrow(Exited);
    expect(p.err).toContain(`palisade-demo: cannot read --secret ${join(dir, 'missing')}: ENOENT`);
    expect(() => cli!.parseFile(secret, '--secret', () => { throw new RangeError('line 2: no role'); }, '--secret: ')).toThrow(Exited);
    expect(p.err).toContain('palisade-demo: --secret: line 2: no role');
  });

  it('checks integers', () => {
    const { cli, p } = run(['--node', 'a']);
    expect(cli!.integer('42', '--count')).toBe(42);
    expect(cli!.integer(undefined, '--count')).toBeUndefined();
    expect(() => cli!.integer('-1', '--count')).toThrow(Exited);
    expect(p.err).toContain("--count expects a non-negative integer, got '-1'");
  });

  it('reads server TLS files only as a complete set', () => {
    const cert = join(dir, 'cert.pem');
    writeFileSync(cert, 'CERT');
    expect(run(['--node', 'a']).cli!.serverTls()).toEqual({});
    const full = run(['--node', 'a', '--tls-cert', cert, '--tls-key', cert, '--tls-ca', cert]).cli!.serverTls();
    expect(full.tls && [full.tls.cert.toString(), full.tls.key.toString(), full.tls.ca?.toString()]).toEqual(['CERT', 'CERT', 'CERT']);
    const half = run(['--node', 'a', '--tls-cert', cert]);
    expect(() => half.cli!.serverTls()).toThrow(Exited);
    expect(half.p.err).toContain('--tls-cert and --tls-key go together');
    const caOnly = run(['--node', 'a', '--tls-ca', cert]);
    expect(() => caOnly.cli!.serverTls()).toThrow(Exited);
    expect(caOnly.p.err).toContain('--tls-ca needs --tls-cert and --tls-key');
  });

  it('starts a service: a refused option is a usage error, another failure exits 1, a signal closes it', async () => {
    const { cli, p } = run(['--node', 'a']);
    const o = { logger: SILENT_LOGGER, failureMessage: 'demo failed to start', isUsageError: (e: unknown) => e instanceof RangeError };
    await expect(cli!.startService(() => Promise.reject(new RangeError('--count too large')), o)).rejects.toBeInstanceOf(Exited);
    expect(p.err).toContain('palisade-demo: --count too large');
    await expect(cli!.startService(() => Promise.reject(new TypeError('disk full')), o)).rejects.toBeInstanceOf(Exited);
    expect(p.codes).toEqual([2, 1]);
    let closed = 0;
    const service = { close: () => ((closed++), Promise.resolve()), closed: () => Promise.resolve() };
    expect(await cli!.startService(() => Promise.resolve(service), o)).toBe(service);
    p.emit('SIGTERM', 'SIGTERM');
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(1);
    expect(p.codes).toEqual([2, 1, 0]);
  });
});

describe('splitList', () => {
  it('splits on commas and drops empty items', () => {
    expect(splitList(' nats://a:4222, nats://b:4222,,')).toEqual(['nats://a:4222', 'nats://b:4222']);
  });
});

describe('withCloser', () => {
  it('adds close, closed, force and closing to the fields', async () => {
    let stopped = 0;
    const s = withCloser({ address: '127.0.0.1:1' }, { graceful: () => Promise.resolve(void stopped++), force: () => undefined, graceMs: 1000 });
    expect(s.closing).toBe(false);
    await Promise.all([s.close(), s.close()]);
    await s.closed();
    expect([s.address, s.closing, stopped]).toEqual(['127.0.0.1:1', true, 1]);
  });
});
