/**
 * Kernel test: whole rulesets through netlink. For every compiler golden, applying the
 * codec's messages in a namespace gives the same `nft -j list ruleset` as `nft -f` of the
 * rendered text, and (with strace) the batch equals nft's byte for byte. Runs in one network
 * namespace this test creates and removes. Skipped (reason printed) when not root or `nft` /
 * `ip` are missing. With CAPTURE_NFT=1 it rewrites `codec/test-probe-batch.ts` from nft.
 */
import { execFile } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderNftText, REQUIRED_SYSCTLS, type Ruleset } from '@palisade/fw-compile';
import { GOLDEN_DIR, loadScenario } from '@palisade/fw-compile/test-support';
import { toHex } from '../codec/bytes.js';
import { decodeNetlinkMessages } from '../codec/decode.js';
import { createSetIdAllocator, lowerFullReplace } from '../codec/nft-lower.js';
import { encodeNftBatch } from '../codec/nft-messages.js';
import { PROBE_OWN_TABLES, PROBE_RULESET } from '../codec/test-probe.js';
import { openNftSession, type NftSession } from './nft-session.js';

const exec = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const CAPTURE_TOOL = join(here, '..', '..', 'tools', 'capture-nft-batch.mjs');

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 1 << 28 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr}`, { cause: err })) : resolve(stdout)));
    child.stdin?.on('error', () => undefined); // a command that does not read its input
    child.stdin?.end(input ?? '');
  });
}

async function has(cmd: string, args: string[]): Promise<boolean> {
  try {
    await exec(cmd, args);
    return true;
  } catch {
    return false;
  }
}

async function prerequisites(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables)';
  if (!(await has('nft', ['--version']))) return '`nft` is not installed';
  if (!(await has('ip', ['-V']))) return '`ip` is not installed';
  return undefined;
}

const why = await prerequisites();
if (why) console.warn(`nft-netlink ruleset kernel tests skipped: ${why}`);
const withStrace = why === undefined && (await has('strace', ['-V']));
const ns = `plrs-${process.pid}`;
const nft = (args: string[], input?: string): Promise<string> => run('ip', ['netns', 'exec', ns, 'nft', ...args], input);

/** `nft -j list ruleset` without what differs between two equal rulesets: handles and the version banner. */
export async function listRuleset(): Promise<unknown[]> {
  const json = JSON.parse(await nft(['-j', 'list', 'ruleset'])) as { nftables: Record<string, unknown>[] };
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'handle').map(([k, x]) => [k, strip(x)]));
    return v;
  };
  return json.nftables.filter((o) => !('metainfo' in o)).map(strip);
}

/** This kernel has no `nft_queue` (CONFIG_NFT_QUEUE unset): rules with `queue` are left out on both sides. */
function withoutQueue(r: Ruleset): Ruleset {
  return { tables: r.tables.map((t) => ({ ...t, chains: t.chains.map((c) => ({ ...c, rules: c.rules.filter((x) => !x.stmts.some((s) => s.kind === 'queue')) })) })) };
}

/** The messages of a batch as hex, one per message. */
function messageHex(bytes: Uint8Array): string[] {
  const d = decodeNetlinkMessages(bytes);
  if (!d.ok) throw new TypeError(d.error);
  const out: string[] = [];
  let at = 0;
  for (const m of d.value) {
    const len = 16 + m.payload.length;
    out.push(toHex(bytes.subarray(at, at + len)));
    at += (len + 3) & ~3;
  }
  return out;
}

async function nftBatchHex(text: string): Promise<string[]> {
  const file = join(here, `.probe-${process.pid}.nft`);
  writeFileSync(file, text);
  try {
    await nft(['flush', 'ruleset']);
    return (await run(process.execPath, [CAPTURE_TOOL, ns, file])).trim().split('\n');
  } finally {
    await run('rm', ['-f', file]);
  }
}

const goldens = readdirSync(GOLDEN_DIR)
  .filter((d) => statSync(join(GOLDEN_DIR, d)).isDirectory())
  .sort();

describe.skipIf(why !== undefined)('whole rulesets through netlink', () => {
  let session: NftSession | undefined;
  beforeAll(async () => {
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...REQUIRED_SYSCTLS.map(([k, v]) => `${k}=${v}`)]).catch(() => undefined);
    session = await openNftSession({ netns: ns });
  });
  afterAll(async () => {
    await session?.close();
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  });

  it.skipIf(process.env.CAPTURE_NFT !== '1' || !withStrace)('captures the probe batch from nft (CAPTURE_NFT=1)', async () => {
    const hex = await nftBatchHex(renderNftText(PROBE_RULESET, PROBE_OWN_TABLES));
    const body = hex.map((h) => `  '${h}',`).join('\n');
    writeFileSync(
      join(here, '..', 'codec', 'test-probe-batch.ts'),
      `/**\n * Golden bytes: the batch nft 1.0.6 sent for the rendered text of \`test-probe.ts\` (Linux 6.18), one\n * message per entry, captured by \`ruleset-kernel.test.ts\` with CAPTURE_NFT=1 (strace of \`nft -f\`).\n * Regenerate only on purpose; the queue rules fail in a kernel without nft_queue, the bytes are still nft's.\n */\nexport const PROBE_BATCH_HEX: readonly string[] = [\n${body}\n];\n`,
    );
  });

  for (const name of goldens) {
    it(`golden ${name}: same kernel ruleset as nft -f${withStrace ? ', same bytes as nft' : ''}`, async () => {
      const { compiled } = loadScenario(join(GOLDEN_DIR, name));
      if (withStrace) {
        // every golden, queue rules included: nft's batch is captured even when the kernel refuses it
        const theirs = await nftBatchHex(renderNftText(compiled.ruleset, compiled.ownTables));
        const ours = encodeNftBatch(lowerFullReplace(compiled.ruleset.tables, compiled.ownTables), { ack: 'none' });
        if (!ours.ok) throw new TypeError(ours.error);
        expect(messageHex(ours.value.bytes)).toEqual(theirs);
      }
      const ruleset = withoutQueue(compiled.ruleset);
      await nft(['flush', 'ruleset']);
      await nft(['-f', '-'], renderNftText(ruleset, compiled.ownTables));
      const viaText = await listRuleset();
      await nft(['flush', 'ruleset']);
      const s = session as NftSession;
      const r = await s.send(lowerFullReplace(ruleset.tables, compiled.ownTables, createSetIdAllocator()));
      expect(r.messages).toBeGreaterThan(0);
      expect(await listRuleset()).toEqual(viaText);
      // applied again (the replace path: declare, delete, recreate), still the same
      await s.send(lowerFullReplace(ruleset.tables, compiled.ownTables));
      expect(await listRuleset()).toEqual(viaText);
    });
  }
});
