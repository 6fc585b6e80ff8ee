import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePortList } from './ports.js';

const dport = { icmpNames: true };
const sport = { icmpNames: false };

describe('parsePortList', () => {
  it('parses numbers, ranges and service names', () => {
    expect(parsePortList('22', sport)).toEqual({ ok: true, items: [{ kind: 'port', port: 22 }], multi: false });
    expect(parsePortList('1000:2000', sport)).toEqual({ ok: true, items: [{ kind: 'range', from: 1000, to: 2000 }], multi: false });
    expect(parsePortList('ssh,80,8000:8080', sport)).toEqual({
      ok: true,
      items: [
        { kind: 'service', name: 'ssh', port: 22 },
        { kind: 'port', port: 80 },
        { kind: 'range', from: 8000, to: 8080 },
      ],
      multi: true,
    });
    expect(parsePortList('0', sport)).toEqual({ ok: true, items: [{ kind: 'port', port: 0 }], multi: false });
    expect(parsePortList('65535', sport).ok).toBe(true);
    expect(parsePortList('0022', sport)).toEqual({ ok: true, items: [{ kind: 'port', port: 22 }], multi: false });
    expect(parsePortList('5:5', sport).ok).toBe(true);
  });

  it('rejects bad ports with the reference messages', () => {
    expect(parsePortList('65536', sport)).toEqual({ ok: false, message: "invalid port '65536'" });
    expect(parsePortList('1:70000', sport)).toEqual({ ok: false, message: "invalid port '70000'" });
    expect(parsePortList('70000:1', sport)).toEqual({ ok: false, message: "invalid port '70000'" });
    expect(parsePortList('2000:1000', sport)).toEqual({
      ok: false,
      message: "backwards range '2000:1000' not allowed, did you mean '1000:2000'?",
    });
    expect(parsePortList('nosuchservice', sport)).toEqual({ ok: false, message: "invalid port 'nosuchservice'" });
    expect(parsePortList('SSH', sport)).toEqual({ ok: false, message: "invalid port 'SSH'" });
    expect(parsePortList('www', sport)).toEqual({ ok: false, message: "invalid port 'www'" });
    expect(parsePortList('1-2', sport)).toEqual({ ok: false, message: "invalid port '1-2'" });
    expect(parsePortList('1:', sport)).toEqual({ ok: false, message: "invalid port '1:'" });
    expect(parsePortList('-1', sport)).toEqual({ ok: false, message: "invalid port '-1'" });
  });

  it('handles commas like Perl split', () => {
    expect(parsePortList('22,', sport)).toEqual({ ok: false, message: 'extraneous commas in list' });
    expect(parsePortList(',', sport)).toEqual({ ok: false, message: 'extraneous commas in list' });
    expect(parsePortList('22,,', sport)).toEqual({ ok: false, message: 'extraneous commas in list' });
    expect(parsePortList(',22', sport)).toEqual({ ok: false, message: "invalid port ''" });
    expect(parsePortList('22,,80', sport)).toEqual({ ok: false, message: "invalid port ''" });
  });

  it('counts numbers (ranges twice, names not at all) up to 15', () => {
    const fifteen = Array.from({ length: 15 }, (_, i) => String(i + 1)).join(',');
    expect(parsePortList(fifteen, sport).ok).toBe(true);
    expect(parsePortList(`${fifteen},16`, sport)).toEqual({ ok: false, message: 'too many entries in port list (> 15 numbers)' });
    expect(parsePortList('1:2,3:4,5:6,7:8,9:10,11:12,13:14,15', sport).ok).toBe(true);
    expect(parsePortList('1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16', sport).ok).toBe(false);
    const names = Array.from({ length: 20 }, () => 'ssh').join(',');
    expect(parsePortList(`${names},1`, sport).ok).toBe(true);
  });

  it('accepts ICMP type names only for dport and not mixed with numbers', () => {
    expect(parsePortList('echo-request', dport)).toEqual({ ok: true, items: [{ kind: 'icmp', name: 'echo-request' }], multi: false });
    expect(parsePortList('neighbor-solicitation', dport).ok).toBe(true);
    expect(parsePortList('echo-request,echo-reply', dport)).toMatchObject({ ok: true, multi: true });
    expect(parsePortList('echo-request', sport)).toEqual({ ok: false, message: "invalid port 'echo-request'" });
    expect(parsePortList('echo-request,8', dport)).toEqual({ ok: false, message: 'ICMP ports not allowed in port range' });
    expect(parsePortList('8,echo-request', dport)).toEqual({ ok: false, message: 'ICMP ports not allowed in port range' });
    expect(parsePortList('echo-request,ssh', dport).ok).toBe(true);
    // A bad item is reported before the ICMP mix.
    expect(parsePortList('echo-request,8,99999', dport)).toEqual({ ok: false, message: "invalid port '99999'" });
  });

  it('never throws on random input', () => {
    fc.assert(
      fc.property(fc.string(), fc.boolean(), (s, icmpNames) => {
        const r = parsePortList(s, { icmpNames });
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.array(fc.constantFrom('1', '22', ':', ',', 'ssh', 'echo-request', '99999', '0')).map((a) => a.join('')), (s) => {
        const r = parsePortList(s, dport);
        if (r.ok) expect(r.multi).toBe(s.includes(','));
      }),
      { numRuns: 2000 },
    );
  });
});
