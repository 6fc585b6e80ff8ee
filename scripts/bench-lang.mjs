#!/usr/bin/env node
// Benchmark of the language library: parse + resolve a generated cluster
// (cluster.fw with 1,000 rules and 100 IP sets of 1,000 entries, 1,000 guest .fw files of
// 20 rules each). Target: under 300 ms on one core. The baseline, measured in the same run,
// is a bare scan of the same bytes (split into lines, one regex test per line), so the
// figure is also printed as a ratio that does not depend on the machine's speed.
// The generated cluster.fw is 1.3 MB, over pmxcfs's 1 MiB file limit that Palisade applies by
// default, so the benchmark raises the limit (maxBytes) to parse it at all.
import { loadTree } from '@palisade/fw-lang';

function generate() {
  const files = new Map();
  const cluster = ['[OPTIONS]', 'enable: 1', '', '[ALIASES]'];
  for (let i = 0; i < 100; i += 1) cluster.push(`alias${i} 10.${i}.0.0/16`);
  for (let s = 0; s < 100; s += 1) {
    cluster.push('', `[IPSET set${s}]`);
    for (let e = 0; e < 1000; e += 1) cluster.push(`${e % 50 === 0 ? '!' : ''}172.${16 + (s % 16)}.${e >> 8}.${e & 255}`);
  }
  cluster.push('', '[RULES]');
  for (let r = 0; r < 1000; r += 1) {
    cluster.push(
      r % 3 === 0
        ? `IN ACCEPT -source +set${r % 100} -p tcp -dport ${1000 + r}`
        : r % 3 === 1
          ? `IN SSH(ACCEPT) -source alias${r % 100} -log info # rule ${r}`
          : `OUT DROP -dest 192.0.2.${r % 250} -p udp -dport 53,123,${2000 + r}`,
    );
  }
  cluster.push('', '[group web]', 'IN ACCEPT -p tcp -dport 80,443', 'IN Ping(ACCEPT)');
  files.set('firewall/cluster.fw', cluster.join('\n') + '\n');
  for (let g = 0; g < 1000; g += 1) {
    const vmid = 1000 + g;
    const lines = ['[OPTIONS]', 'enable: 1', '', '[RULES]', 'GROUP web -i net0'];
    for (let r = 1; r < 20; r += 1) lines.push(`IN ACCEPT -source +dc/set${r % 100} -p tcp -dport ${8000 + r} # r${r}`);
    files.set(`firewall/${vmid}.fw`, lines.join('\n') + '\n');
    files.set(`nodes/node${g % 10}/qemu-server/${vmid}.conf`, `name: vm${vmid}\nnet0: virtio=BC:24:11:00:${((g >> 8) & 255).toString(16).padStart(2, '0')}:${(g & 255).toString(16).padStart(2, '0')},bridge=vmbr0,firewall=1\n`);
  }
  return files;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn, runs) {
  const samples = [];
  for (let i = 0; i < runs; i += 1) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

const MAX_BYTES = 8 * 1024 * 1024;
const files = generate();
let bytes = 0;
for (const v of files.values()) bytes += v.length;
const baseline = time(() => {
  let n = 0;
  for (const text of files.values()) for (const line of text.split('\n')) if (/^\s*\[/.test(line)) n += 1;
  return n;
}, 7);
let diagnostics = 0;
const parse = time(() => {
  diagnostics = loadTree(files, { maxBytes: MAX_BYTES }).diagnostics.length;
}, 7);
const target = 300;
console.log(`fw-lang: parse + resolve ${files.size} documents, ${(bytes / 1e6).toFixed(1)} MB (1,000 rules, 100 sets x 1,000 entries, 1,000 guests x 20 rules)`);
console.log(`  parse+resolve  ${parse.toFixed(0)} ms (median of 7)   target < ${target} ms: ${parse < target ? 'met' : 'NOT met'}`);
console.log(`  baseline scan  ${baseline.toFixed(0)} ms   ratio ${(parse / baseline).toFixed(1)}x a bare line scan`);
console.log(`  diagnostics    ${diagnostics}`);
