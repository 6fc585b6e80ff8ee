// The benchmark ruleset of issue #3 / #9, shared by bench-compile.mjs and bench-netlink.mjs:
// one node with 1,000 guests x 20 rules and 100 IP sets x 1,000 entries.
const RULES = 20;
const ENTRIES = 1000;

function ip(n) {
  return `${10 + ((n >> 24) & 0x3f)}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

function clusterFw(variant, SETS) {
  const lines = ['[OPTIONS]', 'enable: 1', '', '[ALIASES]', 'office 192.0.2.0/24', ''];
  for (let s = 0; s < SETS; s++) {
    lines.push(`[IPSET set${s}]`);
    for (let e = 0; e < ENTRIES; e++) {
      // spread entries so they do not merge; every 10th one is a /24, every 50th a nomatch host
      const base = (s * ENTRIES + e) * 512;
      if (e % 50 === 49) lines.push(`!${ip(base - 512 + 7)}`);
      else if (e % 10 === 0) lines.push(`${ip(base).replace(/\.\d+$/, '.0')}/24`);
      else lines.push(ip(base + 1));
    }
    if (variant === 'changed' && s === 0) lines.push('198.51.100.0/24', '198.51.101.7');
    lines.push('');
  }
  lines.push('[group web]', 'IN HTTP(ACCEPT)', 'IN HTTPS(ACCEPT)', 'OUT ACCEPT -p tcp -dport 443', '');
  lines.push('[RULES]', 'IN SSH(ACCEPT) -source +set0', 'IN ACCEPT -p tcp -dport 8443 -source office', '');
  return lines.join('\n');
}

function guestFw(vmid, SETS, variant) {
  const lines = ['[OPTIONS]', 'enable: 1', 'log_level_in: info', '', '[RULES]'];
  const kinds = [
    (i) => `IN ACCEPT -p tcp -dport ${1000 + i} -source +set${(vmid + i) % SETS}`,
    (i) => `IN ACCEPT -p udp -dport ${2000 + i},${3000 + i}`,
    (i) => `IN DROP -p tcp -dport ${4000 + i} -source 10.${i}.0.0/16 -log warning`,
    () => 'GROUP web',
    (i) => `OUT REJECT -p tcp -dport ${5000 + i}`,
    (i) => `IN Ping(ACCEPT) -source 192.0.2.${i}`,
    (i) => `OUT ACCEPT -p tcp -dport ${6000 + i} -dest +set${(vmid * 7 + i) % SETS}`,
  ];
  for (let i = 0; i < RULES; i++) lines.push(kinds[i % kinds.length](i));
  if (variant === 'guest-rule') lines[5] = lines[5].replace(/-dport (\d+)/, (_m, p) => `-dport ${Number(p) + 7}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The benchmark configuration as a file map: `guests` guests x 20 rules, `sets` IP sets x 1,000
 * entries. Variants: `base`; `changed` (set0 gains two entries, an ipset-only change);
 * `guest-rule` (one rule of the first guest changed).
 */
export function benchTree(variant, { guests: GUESTS = 1000, sets: SETS = 100 } = {}) {
  const files = new Map();
  files.set('firewall/cluster.fw', clusterFw(variant, SETS));
  files.set('nodes/bench/host.fw', '[OPTIONS]\nenable: 1\n');
  for (let g = 0; g < GUESTS; g++) {
    const vmid = 1000 + g;
    const mac = `BC:24:11:${((g >> 16) & 255).toString(16).padStart(2, '0')}:${((g >> 8) & 255).toString(16).padStart(2, '0')}:${(g & 255).toString(16).padStart(2, '0')}`;
    files.set(`nodes/bench/qemu-server/${vmid}.conf`, `net0: virtio=${mac},bridge=vmbr0,firewall=1\n`);
    files.set(`firewall/${vmid}.fw`, guestFw(vmid, SETS, g === 0 ? variant : 'base'));
  }
  return files;
}

