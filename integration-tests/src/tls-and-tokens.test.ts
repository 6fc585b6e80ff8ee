/**
 * deploy/TLS-AND-TOKENS.md as written: deploy/tls/make-certs.sh makes the CA, the node
 * certificates and the tokens; a configd serves TLS with them and the CLI reaches it with the
 * CA and the admin token, while a call without a token (or with the agent's, for a write) is
 * refused. Also checks every deploy/systemd unit with systemd-analyze verify.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConfigClient, type ConfigClientError } from '@palisade/api';
import { startConfigdProcess, startNats, type ConfigdProcessHandle, type NatsClusterHandle } from '@palisade/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './docker-setup.js';

const CLUSTER = Buffer.from('[OPTIONS]\nenable: 1\n');

describe('TLS and tokens from deploy/tls/make-certs.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-tls-guide-'));
  let nats: NatsClusterHandle | undefined;
  let configd: ConfigdProcessHandle | undefined;

  beforeAll(async () => {
    execFileSync(join(REPO_ROOT, 'deploy/tls/make-certs.sh'), [join(dir, 'out'), 'pve1=10.10.10.1', 'pve2=10.10.10.2'], { stdio: 'ignore', timeout: 30_000 });
    nats = await startNats();
    const node = join(dir, 'out', 'pve1');
    configd = await startConfigdProcess({
      main: join(REPO_ROOT, 'services/configd/dist/main.js'),
      natsServers: nats.urls,
      listen: '127.0.0.1:0',
      args: ['--tokens', join(dir, 'out', 'tokens'), '--tls-cert', join(node, 'node.pem'), '--tls-key', join(node, 'node.key')],
    });
  }, 60_000);

  afterAll(async () => {
    await configd?.stop();
    await nats?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('the certificates verify against the CA and name the node and its address', () => {
    const pem = join(dir, 'out', 'pve2', 'node.pem');
    expect(execFileSync('openssl', ['verify', '-CAfile', join(dir, 'out', 'ca.pem'), pem], { encoding: 'utf8' })).toContain('OK');
    expect(execFileSync('openssl', ['x509', '-in', pem, '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' })).toMatch(/DNS:pve2, IP Address:10\.10\.10\.2, IP Address:127\.0\.0\.1/);
  });

  it('configd serves TLS with them; the admin token writes, no token and the agent token do not', async () => {
    const tokens = readFileSync(join(dir, 'out', 'tokens'), 'utf8');
    const admin = /^admin admin (\S+)$/m.exec(tokens)![1]!;
    const agent = readFileSync(join(dir, 'out', 'pve1', 'agent.token'), 'utf8').trim();
    const tls = { ca: readFileSync(join(dir, 'out', 'pve1', 'ca.pem')) };
    const client = (token?: string) => createConfigClient({ address: configd!.address, tls, timeoutMs: 10_000, ...(token ? { token } : {}) });
    const refusal = async (p: Promise<unknown>): Promise<string> => p.then(() => 'accepted', (err: ConfigClientError) => err.code);
    const [asAdmin, asAgent, anonymous] = [client(admin), client(agent), client()];
    try {
      expect((await asAdmin.call('put', { path: 'firewall/cluster.fw', content: CLUSTER })).meta?.revision).toBeGreaterThan(0);
      expect(Buffer.from((await asAgent.call('get', { path: 'firewall/cluster.fw' })).document?.content ?? []).toString()).toContain('enable: 1');
      expect(await refusal(anonymous.call('put', { path: 'firewall/cluster.fw', content: CLUSTER }))).toBe('unauthenticated');
      expect(await refusal(asAgent.call('put', { path: 'firewall/cluster.fw', content: CLUSTER }))).toBe('permission-denied');
    } finally {
      for (const c of [asAdmin, asAgent, anonymous]) c.close();
    }
  });

  it.skipIf(spawnSync('sh', ['-c', 'command -v systemd-analyze'], { stdio: 'ignore' }).status !== 0)('every deploy/systemd unit passes systemd-analyze verify', () => {
    const units = ['nats-server', 'palisade-configd', 'palisade-agent', 'palisade-logger'].map((u) => join(REPO_ROOT, 'deploy/systemd', `${u}.service`));
    const r = spawnSync('systemd-analyze', ['verify', ...units], { encoding: 'utf8', timeout: 30_000 });
    // Paths that exist only on an installed node (/opt/palisade, /usr/local/bin/nats-server) are not the units' fault.
    const problems = (r.stderr ?? '').split('\n').filter((l) => l.trim() && !/is not executable|No such file or directory|Command .* is not executable/.test(l));
    expect(problems).toEqual([]);
  });
});
