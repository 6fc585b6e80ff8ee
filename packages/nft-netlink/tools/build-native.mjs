#!/usr/bin/env node
// Builds native/sndbuf.node (SO_SNDBUFFORCE, see native/sndbuf.c) with the C compiler and the
// Node-API headers of this Node installation; runs on `npm ci` (install) and `npm run build`.
// Without a compiler or headers it says so and exits 0: the package then works as before, and a
// replace larger than one datagram of net.core.wmem_max x 2 is refused (nothing sent).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import console from 'node:console';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'sndbuf.c');
const out = join(root, 'native', 'build', 'sndbuf.node');
const includes = [resolve(process.execPath, '..', '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'];
const include = includes.find((d) => existsSync(join(d, 'node_api.h')));
if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) process.exit(0);
if (process.platform !== 'linux' || include === undefined) {
  console.warn(`nft-netlink: native/sndbuf.node not built (${process.platform !== 'linux' ? 'not Linux' : 'no node_api.h found'}); large replaces will be refused`);
  process.exit(0);
}
mkdirSync(dirname(out), { recursive: true });
const cc = process.env.CC ?? 'cc';
const r = spawnSync(cc, ['-shared', '-fPIC', '-O2', '-Wall', '-Werror', `-I${include}`, '-o', out, source], { stdio: 'inherit' });
if (r.status !== 0) {
  console.warn(`nft-netlink: ${cc} could not build native/sndbuf.node (${r.error?.message ?? `exit ${r.status}`}); large replaces will be refused`);
  process.exit(0);
}
