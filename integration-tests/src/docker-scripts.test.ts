/**
 * The commands deploy/README.md documents for a cluster on one machine, run as written:
 * deploy/docker/cluster.sh up, exec … palisade import, status, down (on a subnet of its own,
 * so that a cluster someone keeps running on 10.10.10.0/24 is not in the way).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNodeImage, dockerSkipReason, ensureDocker, stopDockerIfStarted, REPO_ROOT } from './docker-setup.js';

const skip = dockerSkipReason();
if (skip) console.warn(`deploy/docker/cluster.sh test skipped: ${skip}`);
const NAME = `palisade-it-scripts-${process.pid}`;
const env = (): NodeJS.ProcessEnv => ({ ...process.env, PALISADE_CLUSTER: NAME, PALISADE_SUBNET: '10.10.30' });
const clusterSh = (...args: string[]): string =>
  execFileSync(join(REPO_ROOT, 'deploy/docker/cluster.sh'), args, { encoding: 'utf8', env: env(), stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8', timeout: 30_000 });

describe.skipIf(skip !== undefined)('deploy/docker/cluster.sh', () => {
  let startedDocker = false;
  beforeAll(() => {
    startedDocker = ensureDocker();
    buildNodeImage();
  }, 600_000);

  afterAll(() => {
    clusterSh('down');
    stopDockerIfStarted(startedDocker);
  }, 120_000);

  it('up starts three quorate nodes, import loads examples/pve, status shows it, down removes everything', () => {
    const t0 = performance.now();
    clusterSh('up');
    console.log(`cluster.sh up: three quorate nodes after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const imported = clusterSh('exec', 'pve1', 'palisade', 'import', '/opt/palisade/examples/pve');
    expect(imported).toMatch(/\d+ document/);
    const status = clusterSh('status');
    for (const n of ['pve1', 'pve2', 'pve3']) expect(status).toContain(`node: ${n}`);
    expect(status.match(/quorate: yes/g)).toHaveLength(3);
    // And each node's agent answers with its applied revision.
    expect(status.match(/applied revision: \d+/g)).toHaveLength(3);
    // The import reaches every kernel: the example cluster.fw's rule for port 8006 (pve3 has no documents of its own).
    for (const n of ['pve1', 'pve2', 'pve3']) {
      const deadline = Date.now() + 30_000;
      let ruleset = '';
      while (Date.now() < deadline && !ruleset.includes('dport 8006')) ruleset = clusterSh('exec', n, 'nft', 'list', 'table', 'inet', 'palisade');
      expect(ruleset).toContain('dport 8006');
    }
    clusterSh('down');
    expect(docker('ps', '-aq', '--filter', `label=org.palisade.cluster=${NAME}`).trim()).toBe('');
    expect(docker('network', 'ls', '-q', '--filter', `label=org.palisade.cluster=${NAME}`).trim()).toBe('');
  }, 300_000);
});
