#!/usr/bin/env node
// Development tool (not part of the build or the tests): runs `nft -f FILE` inside the network
// namespace NS under strace and prints the nfnetlink batch nft sent, one message per line in hex.
// This is how the golden bytes in src/codec/ruleset-fixtures.ts were captured:
//   ip netns add cap && node packages/nft-netlink/tools/capture-nft-batch.mjs cap probe.nft
// Only sendmsg calls whose first message is NFNL_MSG_BATCH_BEGIN are taken (nft also sends
// cache dumps and GETGEN).
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import console from 'node:console';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';

const [ns, file, ...rest] = process.argv.slice(2);
if (!ns || !file) {
  console.error('usage: capture-nft-batch.mjs NS FILE [nft args...]');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'nftcap-'));
const out = join(dir, 'strace.txt');
try {
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'strace', '-f', '-e', 'trace=sendmsg', '-e', 'write=all', '-o', out, 'nft', ...rest, '-f', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    // nft refused the batch (e.g. a missing kernel module); the bytes it sent are still here
  }
  const batches = [];
  let cur;
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const m = /^ \| [0-9a-f]{5}\s{2}((?:[0-9a-f]{2}[ ]{1,2}){1,16})/.exec(line);
    if (m) {
      cur ??= [];
      cur.push(...m[1].trim().split(/\s+/).map((h) => parseInt(h, 16)));
    } else if (cur) {
      batches.push(Uint8Array.from(cur));
      cur = undefined;
    }
  }
  if (cur) batches.push(Uint8Array.from(cur));
  for (const b of batches) {
    if (b.length < 20 || b[4] !== 0x10 || b[5] !== 0) continue;
    const v = new DataView(b.buffer);
    for (let at = 0; at + 16 <= b.length; ) {
      const len = v.getUint32(at, true);
      console.log(Buffer.from(b.subarray(at, at + len)).toString('hex'));
      at += (len + 3) & ~3;
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
