#!/usr/bin/env node
/**
 * The demo's second half: the whole system on one machine, on embedded defaults.
 *
 * A nats-server with JetStream, configd, the logger and a node agent for `pve1` run as child
 * processes with their state in a temporary directory. The agent applies into a network
 * namespace that the lab builds like a Proxmox node (vmbr0, fwbr/tap devices, guests as
 * namespaces behind them), so real packets show what the kernel does. Nothing outside the
 * demo's own namespaces is touched, and everything is removed at the end — also on failure and
 * on Ctrl-C. `--keep` leaves it running and prints commands to try, until Ctrl-C.
 *
 * Usage: node scripts/demo/cluster.mjs --nats-server PATH [--keep]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import { AgentServiceClient, createConfigClient } from '@palisade/api';
import { compileForNode } from '@palisade/fw-compile';
import { loadTree } from '@palisade/fw-lang';
import { LabTopology, labPrerequisites } from '@palisade/lab';
import { natsAuthorizationBlock, randomNatsCredentials } from '@palisade/testkit';
import { palisade, say, step } from './narrate.mjs';
import { freePort, startService } from './services.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const EXAMPLE = join(ROOT, 'examples/pve');
const NODE = 'pve1';
const CONFIRM_WINDOW_S = 8;

/** Real packets the demo sends: from the outside network to guest 100 (web1). */
const WEB = { from: 'outside', to: 'vm100', proto: 'tcp', dport: 80 };
const MYSQL = { from: 'outside', to: 'vm100', proto: 'tcp', dport: 3306 };

const { values } = parseArgs({ options: { 'nats-server': { type: 'string' }, keep: { type: 'boolean' } } });
if (!values['nats-server']) throw new Error('--nats-server PATH is required');

const why = await labPrerequisites();
if (why) {
  say(`(the cluster demo needs root and the lab's tools: ${why})`);
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'palisade-demo-'));
const started = [];
let topology;
let stopping = false;

async function cleanup() {
  if (stopping) return;
  stopping = true;
  for (const s of started.reverse()) await s.stop().catch(() => undefined);
  await topology?.destroy().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    say(`\n${sig}: stopping everything the demo started`);
    void cleanup().then(() => process.exit(130));
  });
}

/** The example tree as the compiler reads it, to build a topology that matches node pve1. */
function readExampleTree() {
  const files = new Map();
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(EXAMPLE, path), new Uint8Array(readFileSync(path)));
    }
  };
  walk(EXAMPLE);
  return loadTree(files);
}

async function agentStatus(address) {
  const client = new AgentServiceClient(address, credentials.createInsecure());
  try {
    return await new Promise((resolve, reject) => client.getStatus({}, (err, res) => (err ? reject(err) : resolve(res))));
  } finally {
    client.close();
  }
}

/** Polls the agent until the ruleset in force was compiled from `revision` or later; resolves with the milliseconds it took. */
async function appliedWithin(address, revision, start, timeoutMs = 10_000) {
  for (;;) {
    const s = await agentStatus(address);
    if (s.appliedRevision >= revision) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`the agent did not apply revision ${revision} within ${timeoutMs} ms (it is at ${s.appliedRevision})`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function probe(c, label) {
  const r = await topology.probe(c, { timeoutMs: 600 });
  say(`  ${label}: ${c.from} -> ${c.to} ${c.proto}/${c.dport}  kernel verdict ${r.verdict}${r.observed ? ` (${r.observed})` : ''}${r.reason ? ` ${r.reason}` : ''}`);
  return r.verdict;
}

async function run() {
  step('start a one-node cluster: nats-server (JetStream, a user per role), configd, logger, node agent, in ' + work);
  const [natsPort, configdPort, loggerPort, agentPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const nats = `nats://127.0.0.1:${natsPort}`;
  // NATS closed, as deploy/nats sets it up: one user per role, permissions by subject.
  const creds = randomNatsCredentials();
  const natsConf = join(work, 'nats.conf');
  writeFileSync(natsConf, [`listen: 127.0.0.1:${natsPort}`, `jetstream { store_dir: ${JSON.stringify(join(work, 'jetstream'))} }`, ...natsAuthorizationBlock(creds), ''].join('\n'));
  const natsUser = (role) => {
    const file = join(work, `${role}.nats-password`);
    writeFileSync(file, `${creds[role].password}\n`, { mode: 0o600 });
    return ['--nats-user', creds[role].user, '--nats-password-file', file];
  };
  started.push(
    await startService('nats-server', values['nats-server'], ['-c', natsConf], {
      logFile: join(work, 'nats.log'),
      readyText: /Server is ready/,
    }),
  );
  const configd = `127.0.0.1:${configdPort}`;
  started.push(
    await startService('configd', join(ROOT, 'node_modules/.bin/palisade-configd'), ['--node', NODE, '--nats', nats, ...natsUser('configd'), '--listen', configd, '--data', join(work, 'configd')], {
      logFile: join(work, 'configd.log'),
      ready: (e) => e.msg === 'configd listening',
    }),
  );
  const logger = `127.0.0.1:${loggerPort}`;
  started.push(
    await startService('logger', join(ROOT, 'node_modules/.bin/palisade-logger'), ['--nats', nats, ...natsUser('logger'), '--listen', logger, '--data', join(work, 'logger')], {
      logFile: join(work, 'logger.log'),
      ready: (e) => e.msg === 'logger listening',
    }),
  );
  const tree = readExampleTree();
  const compiled = compileForNode(tree, { node: NODE });
  if (!compiled.ok) throw new Error(`examples/pve does not compile for ${NODE}: ${compiled.refusal.message}`);
  topology = await LabTopology.create(compiled.compiled, [WEB, MYSQL], { prefix: `pd-${process.pid % 100000}` });
  say(`node ${NODE} is network namespace ${topology.host} (vmbr0, vmbr1, fwbr100i0/tap100i0 …); its guests are namespaces behind tap/veth devices`);
  const agent = `127.0.0.1:${agentPort}`;
  started.push(
    await startService(
      'node agent',
      join(ROOT, 'node_modules/.bin/palisade-agent'),
      ['--node', NODE, '--configd', configd, '--data', join(work, 'agent'), '--netns', topology.host, '--listen', agent, '--nats', nats, ...natsUser('agent')],
      { logFile: join(work, 'agent.log'), ready: (e) => e.msg === 'node agent started' },
    ),
  );
  const env = { PALISADE_SERVER: configd };
  say(`configd ${configd}, logger ${logger}, agent ${agent}; logs in ${work}/*.log`);

  step('before any configuration, the node is open (no Palisade tables yet)');
  await probe(MYSQL, 'mysql');

  step('palisade import examples/pve   (validated, written with revisions; the agent compiles and applies)');
  const imported = (await palisade(['import', EXAMPLE], { env })).stdout;
  // The newest revision among the documents pve1's ruleset depends on (not other nodes' guests).
  const revision = Math.max(...[...imported.matchAll(/^written (\S+) revision (\d+)/gm)].filter(([, path]) => !path.startsWith('nodes/') || path.startsWith(`nodes/${NODE}/`)).map(([, , rev]) => Number(rev)));
  const importMs = await appliedWithin(agent, revision, performance.now());
  say(`the agent applied revision ${revision}, the newest of pve1's documents (${importMs.toFixed(0)} ms after the import returned)`);
  await palisade(['agent', 'status', '--agent', agent]);

  step('real packets against what the agent applied');
  await probe(WEB, 'web  (group web allows tcp/80)');
  await probe(MYSQL, 'mysql (guest policy_in DROP, logged at level warning)');

  step('change a rule through the firewall API and time it: write acknowledged -> rule live in the kernel');
  const client = createConfigClient({ address: configd });
  try {
    say(`  = palisade fw rules add --vm 100 --type in --action ACCEPT --proto tcp --dport 3306 --comment 'mysql for the app servers'`);
    const t0 = performance.now();
    const written = await client.fw('createRule', {
      scope: { target: { $case: 'vmid', value: 100 } },
      rule: { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '3306', comment: 'mysql for the app servers', enable: true },
    });
    const ackMs = performance.now() - t0;
    const liveMs = await appliedWithin(agent, written.meta.revision, performance.now());
    say(`  written as revision ${written.meta.revision} (acknowledged in ${ackMs.toFixed(1)} ms); applied by the agent ${liveMs.toFixed(1)} ms after the acknowledgement`);
  } finally {
    client.close();
  }
  await probe(MYSQL, 'mysql now');

  step('an invalid write is refused with every diagnostic; nothing is stored, the kernel keeps its ruleset');
  await palisade(['put', 'firewall/100.fw', '--file', join(ROOT, 'examples/invalid-100.fw')], { env, expect: 1 });

  step('palisade log: the dropped packets, collected from the node by the logger');
  const t2 = performance.now();
  while (!(await palisade(['log', '--logger', logger, '--vm', '100', '--limit', '1'], { quiet: true })).stdout.includes('DPT=3306')) {
    if (performance.now() - t2 > 10_000) throw new Error('no log entry for the dropped mysql packets reached the logger within 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  await palisade(['log', '--logger', logger, '--vm', '100', '--limit', '5']);
  await palisade(['log', '--logger', logger, '--vm', '100', '--limit', '1', '--json']);

  step(`commit-confirmed: a change that blocks the web port, with a ${CONFIRM_WINDOW_S} s window that nobody confirms`);
  await palisade(['fw', 'rules', 'add', '--vm', '100', '--type', 'in', '--action', 'DROP', '--proto', 'tcp', '--dport', '80', '--comment', 'oops', '--confirm', `${CONFIRM_WINDOW_S}s`], { env });
  await new Promise((r) => setTimeout(r, 300));
  await probe(WEB, 'web while unconfirmed');
  const t1 = performance.now();
  say(`  waiting for the window to pass: configd writes the previous content back by itself …`);
  for (;;) {
    if ((await topology.probe(WEB, { timeoutMs: 300 })).verdict === 'ACCEPT') break;
    if (performance.now() - t1 > (CONFIRM_WINDOW_S + 20) * 1000) throw new Error('the unconfirmed change was not rolled back');
  }
  say(`  rolled back and applied ${((performance.now() - t1) / 1000).toFixed(1)} s after the change`);
  await probe(WEB, 'web after the rollback');
  await palisade(['history', 'firewall/100.fw'], { env });

  if (values.keep) {
    step('the cluster keeps running (--keep); try:');
    say(`  export PALISADE_SERVER=${configd}`);
    say(`  npx palisade ls`);
    say(`  npx palisade fw rules list --vm 100`);
    say(`  npx palisade agent status --agent ${agent}`);
    say(`  npx palisade log --logger ${logger} --follow`);
    say(`  ip netns exec ${topology.host} nft list ruleset`);
    say(`Ctrl-C stops everything and removes it.`);
    await new Promise(() => undefined);
  }
}

try {
  await run();
  step('stop everything the demo started and remove its namespaces and files');
} catch (err) {
  process.stderr.write(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
