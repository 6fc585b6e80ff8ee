/**
 * Connection options are accepted before or after the subcommand. The checks configd-client
 * makes before dialing (address form, TLS pairs, timeout) show which value reached the command,
 * so these tests need no server.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from './test-run.js';

describe('connection options anywhere', () => {
  it('takes --server before the subcommand', async () => {
    const r = await runCli(['--server', 'no-port-here', 'ls']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--server expects HOST:PORT, got 'no-port-here'");
  });

  it('takes --server before a nested subcommand', async () => {
    const r = await runCli(['--server', 'no-port-here', 'fw', 'rules', 'list', '--vm', '100']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("got 'no-port-here'");
  });

  it('lets the value after the subcommand win over the one before it', async () => {
    const r = await runCli(['--server', 'first', 'ls', '--server', 'second']);
    expect(r.stderr).toContain("got 'second'");
  });

  it('takes --timeout and the TLS options before the subcommand', async () => {
    expect((await runCli(['--timeout', 'soon', 'status'])).stderr).toContain('--timeout expects milliseconds');
    expect((await runCli(['--tls-cert', 'c.pem', 'get', 'firewall/cluster.fw'])).stderr).toContain('--tls-cert and --tls-key go together');
  });

  it('keeps --server working after the subcommand', async () => {
    const r = await runCli(['status', '--server', 'no-port-here']);
    expect(r.stderr).toContain("got 'no-port-here'");
  });

  it('lists the connection options in the top-level help', async () => {
    const r = await runCli(['--help']);
    expect(r.stdout).toMatch(/--server <host:port>/);
    expect(r.stdout).toMatch(/--token <secret>/);
  });
});
