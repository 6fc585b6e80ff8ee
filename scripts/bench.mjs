#!/usr/bin/env node
// `npm run bench`: runs every benchmark script in turn (each prints its own figures with a
// baseline from the same run). A missing benchmark is reported, not fatal.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const benches = ['bench-lang.mjs', 'bench-compile.mjs', 'bench-netlink.mjs', 'bench-configd.mjs', 'bench-logger.mjs', 'bench-agent.mjs', 'bench-nflog.mjs'];
let failed = 0;
for (const name of benches) {
  const file = join(here, name);
  if (!existsSync(file)) continue;
  console.log(`\n### ${name}`);
  const r = spawnSync(process.execPath, [file, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed += 1;
    console.log(`${name} failed with status ${r.status}`);
  }
}
process.exitCode = failed ? 1 : 0;
