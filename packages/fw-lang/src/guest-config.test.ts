import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseGuestConfig, parseNic, vmidFromPath } from './guest-config.js';
import { joinSourceLines } from './source-lines.js';

const QEMU_100 = `boot: order=scsi0;net0
cores: 2
memory: 2048
name: web1
net0: e1000=0E:0B:38:B8:B3:21,bridge=vmbr0,firewall=1
net1: virtio=0E:0B:38:B9:B4:21,bridge=vmbr1,firewall=1,tag=20
net2: model=virtio,macaddr=0E:0B:38:BA:B4:21,bridge=vmbr2
scsi0: local-lvm:vm-100-disk-0,size=32G
smbios1: uuid=7b1d5d63-2a30-4f5e-8b5f-5d6f3c1f2e11

[before-upgrade]
net0: e1000=0E:0B:38:B8:B3:99,bridge=vmbr9,firewall=0
snaptime: 1700000000
`;

const LXC_200 = `arch: amd64
hostname: ct200
memory: 512
net0: name=eth0,hwaddr=0E:18:24:41:2C:43,bridge=vmbr0,firewall=1,ip=10.0.200.1/24,ip6=auto,type=veth
net1: name=eth1,bridge=vmbr1,ip=dhcp,ip6=2001:db8::2/64,gw6=2001:db8::1
ostype: debian
rootfs: local-lvm:vm-200-disk-0,size=8G
lxc.apparmor.profile: unconfined
`;

const qemu = (text: string | Uint8Array, path = 'nodes/pve1/qemu-server/100.conf') => parseGuestConfig(text, { path, guestType: 'qemu' });
const lxc = (text: string, path = 'nodes/pve1/lxc/200.conf') => parseGuestConfig(text, { path, guestType: 'lxc' });

describe('parseGuestConfig (QEMU)', () => {
  it('reads the NICs of the current config only', () => {
    const c = qemu(QEMU_100);
    expect(c.kind).toBe('qemu-config');
    expect(c.vmid).toBe(100);
    expect(c.diagnostics).toEqual([]);
    expect(c.nics).toEqual([
      { index: 0, line: 5, model: 'e1000', mac: '0E:0B:38:B8:B3:21', bridge: 'vmbr0', firewall: true },
      { index: 1, line: 6, model: 'virtio', mac: '0E:0B:38:B9:B4:21', bridge: 'vmbr1', firewall: true, tag: 20 },
      { index: 2, line: 7, model: 'virtio', mac: '0E:0B:38:BA:B4:21', bridge: 'vmbr2', firewall: false },
    ]);
  });

  it('keeps the text losslessly', () => {
    expect(joinSourceLines(qemu(QEMU_100).lines)).toBe(QEMU_100);
    const noFinalNewline = 'net0: virtio,bridge=vmbr0';
    const c = qemu(noFinalNewline);
    expect(c.lines).toEqual([{ text: noFinalNewline, newline: false }]);
    expect(c.nics).toEqual([{ index: 0, line: 1, model: 'virtio', bridge: 'vmbr0', firewall: false }]);
    const bytes = Uint8Array.from([...'net0: virtio=0E:0B:38:B8:B3:21 \n# café\n'].flatMap((ch) => (ch === 'é' ? [0xc3, 0xa9] : [ch.charCodeAt(0)])));
    const fromBytes = qemu(bytes);
    expect(joinSourceLines(fromBytes.lines)).toBe('net0: virtio=0E:0B:38:B8:B3:21 \n# café\n');
    expect(fromBytes.nics).toHaveLength(1);
  });

  it('stops at pending and cloud-init sections too', () => {
    expect(qemu('net0: virtio\n[PENDING]\nnet1: virtio\n').nics.map((n) => n.index)).toEqual([0]);
    expect(qemu('net0: virtio\n[special:cloudinit]\nnet1: virtio\n').nics.map((n) => n.index)).toEqual([0]);
  });

  it('accepts boolean spellings and tolerates CRLF', () => {
    expect(qemu('net0: virtio,firewall=yes\r\nnet1: virtio,firewall=OFF\r\n').nics.map((n) => n.firewall)).toEqual([true, false]);
    expect(qemu('net0: virtio,firewall=1\r\n').diagnostics).toEqual([]);
  });

  it('reports and skips invalid devices', () => {
    const c = qemu(
      [
        'net0: virtio=01:00:00:00:00:01,bridge=vmbr0,firewall=1',
        'net1: virtio,bridge=vmbr0,colour=red',
        'net2: bridge=vmbr0',
        'net3: virtio,tag=5000',
        'net4: virtio,firewall=maybe',
        'net5: virtio,bridge=vmbr0,bridge=vmbr1',
        'net6: rtl8139=0E:0B:38:B8:B3:21,bridge=vmbr0',
        'net7: foo',
        'net8: virtio,bridge=vm br0',
      ].join('\n'),
    );
    expect(c.nics.map((n) => n.index)).toEqual([6]);
    expect(c.diagnostics.map((d) => [d.code, d.line, d.message])).toEqual([
      ['FW0701', 1, 'net0: macaddr: value does not look like a valid unicast MAC address'],
      ['FW0701', 2, 'net1: invalid key in comma-separated list property: colour'],
      ['FW0701', 3, 'net2: model: property is missing and it is not optional'],
      ['FW0701', 4, 'net3: tag: value must have a maximum value of 4094'],
      ['FW0701', 5, "net4: firewall: type check ('boolean') failed - got 'maybe'"],
      ['FW0701', 6, 'net5: duplicate key in comma-separated list property: bridge'],
      [
        'FW0701',
        8,
        "net7: model: value 'foo' does not have a value in the enumeration 'e1000, e1000-82540em, e1000-82544gc, e1000-82545em, e1000e, i82551, i82557b, i82559er, ne2k_isa, ne2k_pci, pcnet, rtl8139, virtio, vmxnet3'",
      ],
      ['FW0701', 9, "net8: bridge: invalid bridge ID 'vm br0'"],
    ]);
    expect(c.diagnostics.every((d) => d.path === 'nodes/pve1/qemu-server/100.conf' && d.severity === 'error' && d.effect === 'dropped')).toBe(true);
  });

  it('uses the later of two definitions of a key, with a warning', () => {
    const c = qemu('net0: virtio,bridge=vmbr0\nnet0: e1000,bridge=vmbr1,firewall=1\n');
    expect(c.nics).toEqual([{ index: 0, line: 2, model: 'e1000', bridge: 'vmbr1', firewall: true }]);
    expect(c.diagnostics.map((d) => d.code)).toEqual(['FW0702']);
    // An invalid earlier definition no longer counts once replaced.
    expect(qemu('net0: bogus\nnet0: virtio\n').diagnostics.map((d) => d.code)).toEqual(['FW0702']);
  });

  it('accepts net keys above 31 with a warning, and ignores other keys', () => {
    const c = qemu('net32: virtio,firewall=1\nnetwork: x\nnet: y\nipconfig0: ip=dhcp\n');
    expect(c.nics.map((n) => n.index)).toEqual([32]);
    expect(c.diagnostics.map((d) => [d.code, d.line])).toEqual([['FW0702', 1]]);
  });

  it('warns about lines that are not key: value', () => {
    const c = qemu('# a description line\nnet0: virtio\nthis is not a setting\n\n  \n');
    expect(c.nics).toHaveLength(1);
    expect(c.diagnostics.map((d) => [d.code, d.line, d.message])).toEqual([['FW0702', 3, 'unable to parse config: this is not a setting']]);
  });

  it('takes the vmid from the file name only', () => {
    expect(vmidFromPath('nodes/n1/qemu-server/123.conf')).toBe(123);
    expect(vmidFromPath('123.conf')).toBe(123);
    expect(vmidFromPath('nodes/n1/qemu-server/web.conf')).toBeUndefined();
    expect(vmidFromPath('nodes/n1/qemu-server/123.conf.tmp')).toBeUndefined();
    expect(qemu('net0: virtio', 'x/web.conf').vmid).toBeUndefined();
  });
});

describe('parseGuestConfig (LXC)', () => {
  it('reads name, hwaddr, bridge, firewall, ip and ip6', () => {
    const c = lxc(LXC_200);
    expect(c.kind).toBe('lxc-config');
    expect(c.vmid).toBe(200);
    expect(c.diagnostics).toEqual([]);
    expect(c.nics).toEqual([
      { index: 0, line: 4, mac: '0E:18:24:41:2C:43', bridge: 'vmbr0', firewall: true, name: 'eth0', ip: '10.0.200.1/24', ip6: 'auto' },
      { index: 1, line: 5, bridge: 'vmbr1', firewall: false, name: 'eth1', ip: 'dhcp', ip6: '2001:db8::2/64' },
    ]);
  });

  it('reports a bad device and still reads the others', () => {
    const c = lxc(
      [
        'net0: name=eth0,ip=10.0.0.1',
        'net1: name=eth1,hwaddr=0E:18:24:41:2C:44,firewall=1',
        'net2: bridge=vmbr0',
        'net3: name=eth3,ip=10.0.0.3/4',
        'net4: name=eth4,ip6=fe80::1%eth0/64',
        'net5: eth5',
        'net6: name=eth6,gw=10.0.0',
        'net7: name=eth7,mtu=10',
      ].join('\n'),
    );
    expect(c.nics.map((n) => n.index)).toEqual([1]);
    expect(c.diagnostics.map((d) => d.message)).toEqual([
      'net0: ip: value does not look like a valid ipv4 network configuration',
      'net2: name: property is missing and it is not optional',
      'net3: ip: value does not look like a valid ipv4 network configuration',
      'net4: ip6: value does not look like a valid ipv6 network configuration',
      'net5: value without key, but schema does not define a default key',
      'net6: gw: value does not look like a valid IPv4 address',
      'net7: mtu: value must have a minimum value of 64',
    ]);
  });

  it('ignores snapshots and pending changes', () => {
    const c = lxc('net0: name=eth0,firewall=1\n[pve:pending]\nnet1: name=eth1\n');
    expect(c.nics.map((n) => n.index)).toEqual([0]);
  });
});

describe('parseNic', () => {
  it('parses one device value', () => {
    expect(parseNic('qemu', 3, 9, 'vmxnet3=0e:0b:38:b8:b3:21,firewall=true')).toEqual({
      ok: true,
      nic: { index: 3, line: 9, model: 'vmxnet3', mac: '0e:0b:38:b8:b3:21', firewall: true },
    });
  });
});

describe('parseGuestConfig never throws', () => {
  it('on random text', () => {
    const piece = fc.constantFrom('net0: ', 'net1:', 'virtio', '=', ',', 'firewall=1', 'name=eth0', '\n', '[snap]', '#', ' ', 'ip=', '10.0.0.1/24', 'x');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }).map((a) => a.join('')), fc.boolean(), (s, isQemu) => {
        const c = parseGuestConfig(s, { path: 'nodes/n/qemu-server/1.conf', guestType: isQemu ? 'qemu' : 'lxc' });
        expect(joinSourceLines(c.lines)).toBe(s);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        parseGuestConfig(s, { path: '1.conf', guestType: 'lxc' });
        parseGuestConfig(s, { path: '1.conf', guestType: 'qemu' });
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        parseGuestConfig(b, { path: '1.conf', guestType: 'qemu' });
      }),
      { numRuns: 500 },
    );
  });
});
