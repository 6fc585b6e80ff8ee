#!/usr/bin/env node
// Whole-ruleset load and replace over netlink against `nft -f` (issue #9), used by
// bench-netlink.mjs and runnable alone: node scripts/bench-netlink-load.mjs [--guests N]
// [--sets N] [--rounds N] [--no-nft]. Each round loads the benchmark ruleset into a fresh
// namespace through netlink (a socket this process opens inside the namespace, as the agent's
// own socket, no relay) and with `nft -f` of the same text, then replaces it whole both ways;
// the best round of each is compared, wall and CPU (the machine is shared: every round is
// printed with the load average). Then one load through the relay process (what it adds) and
// the kernel alone (the encoded batch sent and acknowledged): what is left after JavaScript.
// Namespaces are created and removed here; root and nft needed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTree } from '@palisade/fw-lang';
import { compileNode, renderNftText, REQUIRED_SYSCTLS } from '@palisade/fw-compile';
import { createRulesetApplier, encodeNftBatch, exchangeBatch, lowerFullReplace, openSocketLink } from '@palisade/nft-netlink';
import { benchTree } from './bench-ruleset.mjs';
import { parseBenchArgs } from './bench-util.mjs';

const SELF = fileURLToPath(import.meta.url);
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const now = () => process.hrtime.bigint();
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');
const facts = { node: 'bench', hostAddresses: ['192.0.2.11/24'], nowSeconds: 0 };
/** The benchmark ruleset compiled. */
export const compileBench = (guests, sets, variant = 'base') => compileNode(loadTree(benchTree(variant, { guests, sets }), { maxBytes: 64 << 20 }), facts);

const sh = (args, input) => {
  const t = now();
  const r = spawnSync(args[0], args.slice(1), { input, maxBuffer: 1 << 30, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return { ms: ms(t), stdout: r.stdout, stderr: r.stderr };
};
/** `nft -f FILE` in NS, with its own user and system CPU seconds (bash `time`). */
const nftFile = (ns, file) => {
  const r = sh(['bash', '-c', `TIMEFORMAT='%R %U %S'; time ip netns exec ${ns} nft -f ${file}`]);
  const [wall, user, sys] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { ms: wall * 1000, userMs: user * 1000, sysMs: sys * 1000 };
};
const addNs = (ns) => {
  sh(['ip', 'netns', 'add', ns]);
  sh(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', ...REQUIRED_SYSCTLS.map(([k, v]) => `${k}=${v}`)]);
};
const delNs = (ns) => spawnSync('ip', ['netns', 'del', ns]);
/** `nft -j list ruleset` of NS without handles, sorted: equal for both paths. */
export const listed = (ns) => {
  const json = JSON.parse(sh(['ip', 'netns', 'exec', ns, 'nft', '-j', 'list', 'ruleset']).stdout);
  const strip = (v) => (Array.isArray(v) ? v.map(strip) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'handle').map(([k, x]) => [k, strip(x)])) : v);
  const key = (o) => {
    const [kind, v] = Object.entries(o)[0];
    return `${kind} ${v.family} ${v.table ?? v.name} ${v.chain ?? v.name}`;
  };
  return JSON.stringify(json.nftables.filter((o) => !('metainfo' in o)).map(strip).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)));
};
/** Sends the encoded `batch` into NS on a socket of this process; the kernel's round trip, ms. */
async function kernelAlone(ns, batch) {
  const link = openSocketLink({ netns: ns });
  try {
    const t0 = now();
    await exchangeBatch(link, batch, { timeoutMs: 120_000 });
    return ms(t0);
  } finally {
    await link.close();
  }
}
const best = (xs) => Math.min(...xs);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** First load and replace with an applier (relay when `netns` is given, else this namespace's socket). */
async function loadAndReplace(base, netns, relay = false) {
  const applier = await createRulesetApplier({ netns, relay, timeoutMs: 120_000 });
  try {
    // CPU of this process: JavaScript, and (no relay) the kernel's work, done inside sendmsg
    const cpu = (c) => (c.user + c.system) / 1000;
    let c0 = process.cpuUsage();
    let t0 = now();
    const first = await applier.apply(base.ruleset, base.ownTables);
    const firstMs = ms(t0);
    const firstCpuMs = cpu(process.cpuUsage(c0));
    c0 = process.cpuUsage();
    t0 = now();
    const repl = await applier.apply(base.ruleset, base.ownTables, { replace: true });
    const replaceMs = ms(t0);
    const replaceCpuMs = cpu(process.cpuUsage(c0));
    return { firstCpuMs, replaceCpuMs, firstMs, firstPlanMs: first.planMs, firstKernelMs: first.applyMs, replaceMs, replacePlanMs: repl.planMs, replaceKernelMs: repl.applyMs, messages: first.messages, bytes: repl.bytes, batches: first.batches };
  } finally {
    await applier.close();
  }
}

/**
 * Measures first load and replace of `base` (its rendered `text`) `rounds` times each way and
 * prints the figures, best round against best round. Returns the best netlink figures.
 */
export async function measureWholeLoads({ base, text, rounds = 3, withNft = true }) {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-load-'));
  const file = join(dir, 'ruleset.nft');
  writeFileSync(file, text);
  const nl = [];
  const nft = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const nsA = `plbla-${process.pid}-${r}`;
      const nsB = `plblb-${process.pid}-${r}`;
      try {
        addNs(nsA);
        addNs(nsB);
        const x = await loadAndReplace(base, nsA);
        nl.push(x);
        let line = `  round ${r + 1}: netlink first load ${x.firstMs.toFixed(0)} ms (plan+lower ${x.firstPlanMs.toFixed(0)}, kernel ${x.firstKernelMs.toFixed(0)}, encode+GETGEN ${(x.firstMs - x.firstPlanMs - x.firstKernelMs).toFixed(0)}; CPU ${x.firstCpuMs.toFixed(0)}), replace ${x.replaceMs.toFixed(0)} ms (CPU ${x.replaceCpuMs.toFixed(0)})`;
        if (withNft) {
          const f = nftFile(nsB, file);
          const g = nftFile(nsB, file);
          nft.push({ first: f, replace: g });
          line += `; nft -f first load ${f.ms.toFixed(0)} ms (user ${f.userMs.toFixed(0)}, sys ${f.sysMs.toFixed(0)}), replace ${g.ms.toFixed(0)} ms (user ${g.userMs.toFixed(0)}, sys ${g.sysMs.toFixed(0)})`;
          if (r === 0) line += `; nft -j list ruleset equal: ${listed(nsA) === listed(nsB) ? 'ok' : 'DIFFERENT'}`;
        }
        console.log(`${line}; load average ${load()}`);
      } finally {
        delNs(nsA);
        delNs(nsB);
      }
    }
    const firstBest = best(nl.map((x) => x.firstMs));
    const replBest = best(nl.map((x) => x.replaceMs));
    const x0 = nl[0];
    console.log(`  ${x0.messages} messages, ${(x0.bytes / 1e6).toFixed(1)} MB, ${x0.batches} batch; best of ${rounds} rounds (median in brackets):`);
    const goal = (ratio, wall, needSecond) => (ratio >= 10 && (!needSecond || wall < 1000) ? 'ok' : 'MISSED');
    if (withNft) {
      const nftFirst = best(nft.map((x) => x.first.ms));
      const nftRepl = best(nft.map((x) => x.replace.ms));
      console.log(`first load, netlink:     ${firstBest.toFixed(0)} ms [${median(nl.map((x) => x.firstMs)).toFixed(0)}]   nft -f ${nftFirst.toFixed(0)} ms [${median(nft.map((x) => x.first.ms)).toFixed(0)}]   netlink is ${(nftFirst / firstBest).toFixed(1)}x faster (goal >= 10x, < 1000 ms: ${goal(nftFirst / firstBest, firstBest, true)})`);
      console.log(`replace, netlink:        ${replBest.toFixed(0)} ms [${median(nl.map((x) => x.replaceMs)).toFixed(0)}]   nft -f ${nftRepl.toFixed(0)} ms [${median(nft.map((x) => x.replace.ms)).toFixed(0)}]   netlink is ${(nftRepl / replBest).toFixed(1)}x faster (goal >= 10x: ${goal(nftRepl / replBest, replBest, false)})`);
      console.log(`  nft's own CPU, best round: first load user ${best(nft.map((x) => x.first.userMs)).toFixed(0)} ms + sys ${best(nft.map((x) => x.first.sysMs)).toFixed(0)} ms; replace user ${best(nft.map((x) => x.replace.userMs)).toFixed(0)} ms + sys ${best(nft.map((x) => x.replace.sysMs)).toFixed(0)} ms`);
    } else {
      console.log(`first load, netlink:     ${firstBest.toFixed(0)} ms; replace ${replBest.toFixed(0)} ms`);
    }

    if (withNft) {
      const nftCpu = (k) => best(nft.map((x) => x[k].userMs + x[k].sysMs));
      const ours = (k) => best(nl.map((x) => x[k]));
      console.log(`  CPU against CPU (less sensitive to the load than wall time; ours includes the kernel's work in sendmsg): first load ${ours('firstCpuMs').toFixed(0)} ms vs ${nftCpu('first').toFixed(0)} ms, ${(nftCpu('first') / ours('firstCpuMs')).toFixed(1)}x; replace ${ours('replaceCpuMs').toFixed(0)} ms vs ${nftCpu('replace').toFixed(0)} ms, ${(nftCpu('replace') / ours('replaceCpuMs')).toFixed(1)}x`);
    }

    // what the relay adds, and the kernel alone for the same batch
    const ns = `plblc-${process.pid}`;
    try {
      addNs(ns);
      const viaRelay = await loadAndReplace(base, ns, true);
      delNs(ns);
      addNs(ns);
      const msgs = lowerFullReplace(base.ruleset.tables, base.ownTables);
      const enc = encodeNftBatch(msgs);
      if (!enc.ok) throw new Error(enc.error);
      const kernelMs = await kernelAlone(ns, enc.value);
      console.log(`first load through the relay process (tests without the addon): ${viaRelay.firstMs.toFixed(0)} ms (kernel round trip with the hand-over ${viaRelay.firstKernelMs.toFixed(0)} ms); replace ${viaRelay.replaceMs.toFixed(0)} ms`);
      console.log(`kernel alone (the same batch, already encoded, sent and acknowledged): ${kernelMs.toFixed(0)} ms: the floor of a first load`);
      // a listener on NFNLGRP_NFTABLES anywhere on the machine (here `nft monitor` in another
      // namespace) makes the kernel build a notification for every object of every commit
      delNs(ns);
      addNs(ns);
      const listenerNs = `plbld-${process.pid}`;
      addNs(listenerNs);
      const monitor = spawn('ip', ['netns', 'exec', listenerNs, 'nft', 'monitor'], { stdio: 'ignore' });
      try {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const withListenerMs = await kernelAlone(ns, enc.value);
        console.log(`kernel alone with one nft monitor running in another namespace: ${withListenerMs.toFixed(0)} ms (${(withListenerMs / kernelMs).toFixed(1)}x; why the agent does not listen for drift)`);
      } finally {
        monitor.kill('SIGTERM');
        await new Promise((resolve) => (monitor.exitCode !== null || monitor.signalCode !== null ? resolve() : monitor.once('exit', resolve)));
        delNs(listenerNs);
      }
    } finally {
      delNs(ns);
    }
    console.log(`  load average ${load()}`);
    return { firstMs: firstBest, replaceMs: replBest };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const HELP = `Usage: node scripts/bench-netlink-load.mjs [options]   (after npm run build; as root)

First load and replace of the benchmark ruleset through netlink against nft -f of its text, in
fresh namespaces, then the kernel alone for the same batch, without and with an NFNLGRP_NFTABLES
listener on the machine.

Options:
  --guests N   guests of the benchmark ruleset (default 1000)
  --sets N     IP sets of 1,000 entries (default 100)
  --rounds N   rounds (default 3)
  --no-nft     skip the nft -f baseline
  -h, --help   this text
`;

if (process.argv[1] === SELF) {
  const args = parseBenchArgs(HELP, { defaults: { guests: '1000', sets: '100', rounds: '3' }, flags: ['no-nft'] });
  const guests = Number(args.guests);
  const sets = Number(args.sets);
  const listeners = spawnSync('pgrep', ['-x', 'nft']).stdout?.toString().trim().split('\n').filter(Boolean).length ?? 0;
  if (listeners > 0) console.log(`note: ${listeners} nft process(es) already run on this machine (nft monitor?): while any listens to nf_tables notifications every commit costs the kernel more`);
  if (typeof process.getuid !== 'function' || process.getuid() !== 0 || spawnSync('nft', ['--version']).status !== 0) {
    console.log('bench-netlink-load: skipped (needs root and nft)');
  } else {
    const base = compileBench(guests, sets);
    await measureWholeLoads({ base, text: renderNftText(base.ruleset, base.ownTables), rounds: Number(args.rounds), withNft: !args['no-nft'] });
  }
}
