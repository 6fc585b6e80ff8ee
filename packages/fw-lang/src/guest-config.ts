/**
 * Guest configs (`qemu-server/<vmid>.conf`, `lxc/<vmid>.conf`): the network devices the
 * firewall needs (spec §1.7). Everything else in the file is opaque: kept in `lines` for a
 * lossless print, never interpreted.
 *
 * Line handling follows `parse_vm_config` (qemu-server) and `parse_pct_config` (pve-container):
 * blank lines and `#` lines (the description) are skipped; the current config ends at the first
 * section header (`[snapshot-name]`, `[PENDING]`, `[special:cloudinit]`, `[pve:pending]`);
 * `key: value` lines set keys, a later line for the same key replacing an earlier one.
 * Device values are PVE property strings checked against the device schemas below.
 */
import { makeDiagnostic } from './diagnostics.js';
import { decodeSource } from './decode.js';
import type { Diagnostic, GuestConfig, GuestNic, GuestType } from './model.js';
import { isIpv4Address, isIpv6Address, parseIpCidr } from './values/ip.js';
import { parsePropertyString, type PropertySchema, type PropertyValue } from './values/property-string.js';

/** Options of {@link parseGuestConfig}. */
export interface ParseGuestConfigOptions {
  /** Document path as given by the caller, used in diagnostics; the vmid is taken from its file name. */
  readonly path: string;
  readonly guestType: GuestType;
  /** Size limit in bytes (default: the package's document limit, 1 MiB). */
  readonly maxBytes?: number;
}

/** QEMU NIC models (`$nic_model_list` of qemu-server). */
export const QEMU_NIC_MODELS: readonly string[] = [
  'e1000',
  'e1000-82540em',
  'e1000-82544gc',
  'e1000-82545em',
  'e1000e',
  'i82551',
  'i82557b',
  'i82559er',
  'ne2k_isa',
  'ne2k_pci',
  'pcnet',
  'rtl8139',
  'virtio',
  'vmxnet3',
];

/** Highest device index PVE itself accepts (`net0`…`net31`). */
export const MAX_PVE_NIC_INDEX = 31;

const MAC_RE = /^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i;

/** True for a unicast MAC address as PVE accepts it (`mac-addr` format). */
export function isValidMac(mac: string): boolean {
  return MAC_RE.test(mac);
}

const macFormat = (v: string): string | undefined => (MAC_RE.test(v) ? undefined : 'value does not look like a valid unicast MAC address');
const bridgeFormat = (v: string): string | undefined => (/^[-_.A-Za-z0-9]+$/.test(v) ? undefined : `invalid bridge ID '${v}'`);

function cidrInRange(v: string, version: 4 | 6): boolean {
  if (!v.includes('/')) return false;
  const c = parseIpCidr(v);
  return c !== undefined && c.version === version && c.prefixLength > 7;
}

const ipv4Config = (v: string): string | undefined =>
  v === 'dhcp' || v === 'manual' || cidrInRange(v, 4) ? undefined : 'value does not look like a valid ipv4 network configuration';
const ipv6Config = (v: string): string | undefined =>
  v === 'auto' || v === 'dhcp' || v === 'manual' || cidrInRange(v, 6) ? undefined : 'value does not look like a valid ipv6 network configuration';

const TRUNKS = /[0-9]+(?:-[0-9]+)?(?:;[0-9]+(?:-[0-9]+)?)*/;

/** `$net_fmt` of qemu-server: `[model=]<model>[=<MAC>]`, `macaddr`, `bridge`, `firewall`, … */
export const QEMU_NET_SCHEMA: PropertySchema = {
  macaddr: { type: 'string', optional: true, format: macFormat },
  model: { type: 'string', enum: QEMU_NIC_MODELS, defaultKey: true },
  ...Object.fromEntries(QEMU_NIC_MODELS.map((m) => [m, { type: 'alias', alias: 'macaddr', keyAlias: 'model' } as const])),
  bridge: { type: 'string', optional: true, format: bridgeFormat },
  queues: { type: 'integer', optional: true, minimum: 0, maximum: 64 },
  rate: { type: 'number', optional: true, minimum: 0 },
  tag: { type: 'integer', optional: true, minimum: 1, maximum: 4094 },
  trunks: { type: 'string', optional: true, pattern: TRUNKS },
  firewall: { type: 'boolean', optional: true },
  link_down: { type: 'boolean', optional: true },
  mtu: { type: 'integer', optional: true, minimum: 1, maximum: 65520 },
};

/** `$netconf_desc` of pve-container: `name=<ifname>`, `hwaddr`, `bridge`, `firewall`, `ip`, `ip6`, … */
export const LXC_NET_SCHEMA: PropertySchema = {
  type: { type: 'string', optional: true, enum: ['veth'] },
  name: { type: 'string', pattern: /[-_.A-Za-z0-9]+/ },
  bridge: { type: 'string', optional: true, pattern: /[-_.A-Za-z0-9]+/ },
  hwaddr: { type: 'string', optional: true, format: macFormat },
  mtu: { type: 'integer', optional: true, minimum: 64, maximum: 65535 },
  ip: { type: 'string', optional: true, format: ipv4Config },
  gw: { type: 'string', optional: true, format: (v) => (isIpv4Address(v) ? undefined : 'value does not look like a valid IPv4 address') },
  ip6: { type: 'string', optional: true, format: ipv6Config },
  gw6: { type: 'string', optional: true, format: (v) => (isIpv6Address(v) ? undefined : 'value does not look like a valid IPv6 address') },
  firewall: { type: 'boolean', optional: true },
  tag: { type: 'integer', optional: true, minimum: 1, maximum: 4094 },
  trunks: { type: 'string', optional: true, pattern: TRUNKS },
  rate: { type: 'number', optional: true, minimum: 0 },
  link_down: { type: 'boolean', optional: true },
  'host-managed': { type: 'boolean', optional: true },
};

const SECTION_HEADER = /^\[(?:PENDING|pve:pending|special:[A-Za-z0-9_:-]+|[a-z][a-z0-9_-]+)\]\s*$/i;
const KEY_VALUE = /^([a-z][a-z_]*[0-9]*):\s*(.*?)\s*$/;
const RAW_LXC_KEY = /^lxc\.[a-z0-9_.-]+(?::|\s*=)/;
const NET_KEY = /^net([0-9]+)$/;

/** The vmid of a `<vmid>.conf` path, if its file name has that form. */
export function vmidFromPath(path: string): number | undefined {
  const m = /(?:^|\/)([0-9]+)\.conf$/.exec(path);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Parses a guest config and extracts its network devices (current config only; snapshot and
 * pending sections are ignored). Never throws.
 *
 * A device whose value does not parse is reported (FW0701, with the reference's property-string
 * message) and left out of `nics`. For QEMU that is what the reference does (the NIC is skipped
 * with a warning). For LXC the reference's error aborts the remaining devices of the container;
 * Palisade keeps the intent (the bad device is not firewalled and the error is reported) but
 * still reads the other devices, so one typo does not unprotect every NIC of the container.
 * Lines in the current config that are neither blank, comments, `key: value` nor raw `lxc.*`
 * keys get a warning (FW0702). A `netN` with N above 31 is used (as the reference's compiler
 * would) but warned about, since PVE itself refuses such keys.
 */
export function parseGuestConfig(input: string | Uint8Array, options: ParseGuestConfigOptions): GuestConfig {
  const { path, guestType } = options;
  const decoded = decodeSource(input, options.maxBytes === undefined ? { path } : { path, maxBytes: options.maxBytes });
  // CR before LF is harmless here (the config parsers trim trailing whitespace), unlike in .fw files.
  const diagnostics: Diagnostic[] = decoded.diagnostics.filter((d) => d.code !== 'FW0004');
  const vmid = vmidFromPath(path);
  const base = {
    kind: guestType === 'qemu' ? ('qemu-config' as const) : ('lxc-config' as const),
    guestType,
    path,
    lines: decoded.lines,
    ...(decoded.encoding === 'latin1' ? { encoding: 'latin1' as const } : {}),
    ...(vmid === undefined ? {} : { vmid }),
  };
  if (!decoded.interpret) return { ...base, nics: [], diagnostics };

  const nics = new Map<number, { nic?: GuestNic; line: number; diagnostics: Diagnostic[] }>();
  for (let i = 0; i < decoded.lines.length; i += 1) {
    const lineNo = i + 1;
    const text = decoded.lines[i]?.text ?? '';
    if (/^\s*$/.test(text)) continue;
    if (SECTION_HEADER.test(text)) break;
    if (text.startsWith('#')) continue;
    const kv = KEY_VALUE.exec(text);
    if (kv === null) {
      if (guestType === 'lxc' && RAW_LXC_KEY.test(text)) continue;
      diagnostics.push(makeDiagnostic('FW0702', path, lineNo, `unable to parse config: ${text}`));
      continue;
    }
    const key = kv[1] as string;
    const value = kv[2] as string;
    const net = NET_KEY.exec(key);
    if (net === null) continue;
    const index = Number(net[1]);
    const own: Diagnostic[] = [];
    const previous = nics.get(index);
    if (previous !== undefined) {
      own.push(makeDiagnostic('FW0702', path, lineNo, `${key} is defined again (first on line ${previous.line}); this later definition is used`));
    }
    if (index > MAX_PVE_NIC_INDEX) {
      own.push(makeDiagnostic('FW0702', path, lineNo, `${key}: PVE allows only net0 to net${MAX_PVE_NIC_INDEX}`));
    }
    if (value === '') {
      own.push(makeDiagnostic('FW0701', path, lineNo, `${key}: empty value`));
      nics.set(index, { line: lineNo, diagnostics: own });
      continue;
    }
    const parsed = parseNic(guestType, index, lineNo, value);
    if (!parsed.ok) {
      own.push(makeDiagnostic('FW0701', path, lineNo, `${key}: ${parsed.message}`));
      nics.set(index, { line: lineNo, diagnostics: own });
    } else {
      nics.set(index, { nic: parsed.nic, line: lineNo, diagnostics: own });
    }
  }

  const ordered = [...nics.entries()].sort((a, b) => a[0] - b[0]);
  for (const [, entry] of ordered) diagnostics.push(...entry.diagnostics);
  diagnostics.sort((a, b) => a.line - b.line);
  return {
    ...base,
    nics: ordered.flatMap(([, e]) => (e.nic === undefined ? [] : [e.nic])),
    diagnostics,
  };
}

type NicResult = { readonly ok: true; readonly nic: GuestNic } | { readonly ok: false; readonly message: string };

function str(values: ReadonlyMap<string, PropertyValue>, key: string): string | undefined {
  const v = values.get(key);
  return typeof v === 'string' ? v : undefined;
}

function num(values: ReadonlyMap<string, PropertyValue>, key: string): number | undefined {
  const v = values.get(key);
  return typeof v === 'number' ? v : undefined;
}

/** Parses one `netN` value of a guest config (spec §1.7). */
export function parseNic(guestType: GuestType, index: number, line: number, value: string): NicResult {
  const r = parsePropertyString(value, guestType === 'qemu' ? QEMU_NET_SCHEMA : LXC_NET_SCHEMA);
  if (!r.ok) return { ok: false, message: r.message };
  const v = r.values;
  const mac = str(v, guestType === 'qemu' ? 'macaddr' : 'hwaddr');
  const bridge = str(v, 'bridge');
  const tag = num(v, 'tag');
  const model = guestType === 'qemu' ? str(v, 'model') : undefined;
  const nic: GuestNic = {
    index,
    line,
    ...(model === undefined ? {} : { model }),
    ...(mac === undefined ? {} : { mac }),
    ...(bridge === undefined ? {} : { bridge }),
    firewall: v.get('firewall') === true,
    ...(tag === undefined ? {} : { tag }),
    ...(guestType === 'lxc' ? lxcFields(v) : {}),
  };
  return { ok: true, nic };
}

function lxcFields(v: ReadonlyMap<string, PropertyValue>): Pick<GuestNic, 'name' | 'ip' | 'ip6'> {
  const name = str(v, 'name');
  const ip = str(v, 'ip');
  const ip6 = str(v, 'ip6');
  return {
    ...(name === undefined ? {} : { name }),
    ...(ip === undefined ? {} : { ip }),
    ...(ip6 === undefined ? {} : { ip6 }),
  };
}
