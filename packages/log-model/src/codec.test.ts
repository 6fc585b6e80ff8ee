import { describe, expect, it } from 'vitest';
import { LOG_ENTRY_MAX_BYTES, LogModelError, decodeLogEntry, encodeLogEntry, isIpAddress, logEntryJson, logSubject, validateLogEntry, type LogEntry } from './index.js';
import { SAMPLE_LOSS, SAMPLE_PACKET } from './test-entries.js';

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

function refusal(fn: () => unknown): LogModelError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LogModelError);
    return err as LogModelError;
  }
  throw new Error('expected a refusal');
}

describe('log entry codec', () => {
  it('round-trips packet and loss entries', () => {
    for (const e of [SAMPLE_PACKET, SAMPLE_LOSS] as LogEntry[]) expect(decodeLogEntry(encodeLogEntry(e))).toEqual(e);
  });

  it('round-trips a minimal packet entry (no optional fields)', () => {
    const minimal: LogEntry = {
      kind: 'packet', id: 'n:b:1', node: 'n', timeUs: 0, vmid: 0, level: 6, chain: '-', verdict: 'weird prefix',
      action: 'OTHER', isPolicy: false, direction: 'unknown', packet: '',
    };
    expect(decodeLogEntry(encodeLogEntry(minimal))).toEqual(minimal);
  });

  it('accepts IPv6 addresses and drops unknown fields', () => {
    const e = decodeLogEntry(enc({ ...SAMPLE_PACKET, family: 6, src: '2001:db8::1', dst: '::ffff:192.0.2.1', futureField: 1 }));
    expect(e).toMatchObject({ src: '2001:db8::1', dst: '::ffff:192.0.2.1' });
    expect(e).not.toHaveProperty('futureField');
  });

  const bad: [string, Record<string, unknown>][] = [
    ['kind', { kind: 'flow' }],
    ['id', { id: '' }],
    ['id', { id: 'has space' }],
    ['node', { node: 'bad_name' }],
    ['timeUs', { timeUs: -1 }],
    ['timeUs', { timeUs: 1.5 }],
    ['vmid', { vmid: '100' }],
    ['level', { level: 8 }],
    ['chain', { chain: 'a b' }],
    ['verdict', { verdict: 'x\ny' }],
    ['action', { action: 'drop' }],
    ['isPolicy', { isPolicy: 'no' }],
    ['direction', { direction: 'both' }],
    ['rule', { rule: 'cluster.fw:1' }],
    ['line', { rule: { path: 'cluster.fw', line: 0, text: '' } }],
    ['mac', { mac: 'zz:00' }],
    ['family', { family: 5 }],
    ['src', { src: '300.1.1.1' }],
    ['dst', { dst: '2001:db8::1::2' }],
    ['dport', { dport: 65536 }],
    ['sport', { sport: -1 }],
    ['icmpType', { icmpType: 256 }],
    ['tcpFlags', { tcpFlags: 'SYN' }],
    ['tcpFlags', { tcpFlags: ['syn'] }],
    ['mark', { mark: 2 ** 32 }],
    ['packet', { packet: undefined }],
  ];
  it.each(bad)('refuses a bad %s, naming the field', (field, patch) => {
    const err = refusal(() => decodeLogEntry(enc({ ...SAMPLE_PACKET, ...patch })));
    expect(err.code).toBe('invalid-log-entry');
    expect(err.context.field).toBe(field);
    expect(err.message).toContain(`'${field}'`);
  });

  it('refuses a loss whose range ends before it starts, and an unknown reason', () => {
    expect(refusal(() => decodeLogEntry(enc({ ...SAMPLE_LOSS, untilUs: SAMPLE_LOSS.fromUs - 1 }))).context.field).toBe('untilUs');
    expect(refusal(() => decodeLogEntry(enc({ ...SAMPLE_LOSS, reason: 'gremlins' }))).context.field).toBe('reason');
    expect(refusal(() => decodeLogEntry(enc({ ...SAMPLE_LOSS, count: -3 }))).context.field).toBe('count');
  });

  it('refuses more than LOG_ENTRY_MAX_BYTES, on decode and on encode', () => {
    const big = { ...SAMPLE_PACKET, packet: 'x'.repeat(LOG_ENTRY_MAX_BYTES) };
    expect(refusal(() => decodeLogEntry(enc(big))).code).toBe('log-entry-too-large');
    expect(refusal(() => encodeLogEntry(big)).code).toBe('log-entry-too-large');
  });

  it('refuses bytes that are not UTF-8 JSON', () => {
    expect(refusal(() => decodeLogEntry(new TextEncoder().encode('{"kind":'))).context.field).toBe('(json)');
    expect(refusal(() => decodeLogEntry(Uint8Array.of(0x7b, 0xff, 0x7d))).code).toBe('invalid-log-entry');
    expect(refusal(() => decodeLogEntry(enc([1, 2]))).context.field).toBe('(entry)');
  });

  it('refuses to encode an entry off the contract', () => {
    expect(refusal(() => encodeLogEntry({ ...SAMPLE_PACKET, dport: 1e6 })).context.field).toBe('dport');
  });
});

describe('logSubject', () => {
  it('names one subject per node and refuses bad node names', () => {
    expect(logSubject('pve-1')).toBe('palisade.log.pve-1');
    for (const bad of ['', '-a', 'a.b', 'a*', 'a>', 'x'.repeat(64)]) expect(refusal(() => logSubject(bad)).code).toBe('invalid-node-name');
    expect(logSubject('x'.repeat(63))).toBe(`palisade.log.${'x'.repeat(63)}`);
  });
});

/** A small deterministic generator (no clock, no Math.random). */
function seeded(start: number): { rnd: (n: number) => number; pick: <T>(xs: readonly T[]) => T } {
  let seed = start;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  return { rnd, pick: <T>(xs: readonly T[]): T => xs[rnd(xs.length)]! };
}

describe('the encoder fast path', () => {
  const { rnd, pick } = seeded(7);

  it('writes the same JSON as stringifying the validated copy, and refuses the same entries', () => {
    const values: Record<string, readonly unknown[]> = {
      iif: [undefined, 'vmbr0', 'tap100i0', 'a b'],
      mac: [undefined, 'aa:bb', 'AA:0f:11', 'aa:bb:', 'zz:00', 'aabb'],
      src: [undefined, '10.0.0.1', '2001:db8::1', '01.2.3.4', '1.2.3.256', '1.2.3', '::ffff:1.2.3.4'],
      chain: ['PVEFW-HOST-IN', 'a\u00a0b', 'x\ty', 'q"uote', 'back\\slash'],
      verdict: ['DROP', 'policy DROP', 'say "hi"', 'é ü ✓', 'lone \ud800 surrogate', 'pair \ud83d\ude00'],
      packet: ['', 'IN=vmbr0 SRC=1.2.3.4 ', 'a\\b"c'],
      family: [undefined, 4, 6, 'arp', 5],
      mark: [undefined, 0, 4294967295],
      ruleId: [undefined, 'r-7c1e', 'r"1'],
      tcpFlags: [undefined, ['SYN', 'ACK'], ['syn'], ['S'], []],
      rule: [undefined, { path: 'cluster.fw', line: 3, text: '' }, { path: 'cluster.fw', line: 0, text: '' }, null],
      dport: [undefined, 0, 65535, 65536],
    };
    let compared = 0;
    for (let i = 0; i < 4000; i++) {
      const e: Record<string, unknown> = { ...SAMPLE_PACKET };
      for (const [k, vs] of Object.entries(values)) e[k] = pick(vs);
      let expected: string | LogModelError;
      try {
        expected = JSON.stringify(validateLogEntry(e));
      } catch (err) {
        expected = err as LogModelError;
      }
      if (typeof expected === 'string') {
        expect(logEntryJson(e as unknown as LogEntry)).toBe(expected);
        compared++;
      } else expect(refusal(() => logEntryJson(e as unknown as LogEntry)).context.field).toBe(expected.context.field);
    }
    expect(compared).toBeGreaterThan(40); // valid entries were compared, not only refusals
  });

  it('reads dotted quads as a reference parser does', () => {
    const reference = (t: string): boolean => /^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$/.test(t) && t.split('.').every((p) => Number(p) <= 255);
    const chars = '0123456789..a';
    for (let i = 0; i < 20_000; i++) {
      const t = Array.from({ length: 5 + rnd(12) }, () => pick([...chars])).join('');
      expect(isIpAddress(t), t).toBe(reference(t));
    }
  });
});

describe('the decoder fast path', () => {
  const { pick } = seeded(11);
  const textOk = (v: unknown, max: number, spaces = true, empty = false): boolean =>
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    typeof v === 'string' && (empty || v.length > 0) && v.length <= max && !/[\u0000-\u001f\u007f]/.test(v) && (spaces || !/\s/.test(v));
  const int = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
  /** The contract written as a plain table: field, check, in the order the first bad field is named. */
  const CONTRACT: [string, (v: unknown) => boolean, boolean][] = [
    ['id', (v) => textOk(v, 256, false), true],
    ['node', (v) => typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/.test(v), true],
    ['timeUs', (v) => int(v, 0, Number.MAX_SAFE_INTEGER), true],
    ['vmid', (v) => int(v, 0, 0xffffffff), true],
    ['level', (v) => int(v, 0, 7), true],
    ['chain', (v) => textOk(v, 256, false), true],
    ['verdict', (v) => textOk(v, 256), true],
    ['action', (v) => ['ACCEPT', 'DROP', 'REJECT', 'OTHER'].includes(v as string), true],
    ['isPolicy', (v) => typeof v === 'boolean', true],
    ['direction', (v) => ['in', 'out', 'unknown'].includes(v as string), true],
    ['ruleId', (v) => textOk(v, 256, false), false],
    ['rule', (v) => typeof v === 'object' && v !== null && !Array.isArray(v), false],
    ['iif', (v) => textOk(v, 64, false), false],
    ['mac', (v) => typeof v === 'string' && /^[0-9a-f]{2}(:[0-9a-f]{2})*$/i.test(v) && v.length <= 768, false],
    ['family', (v) => v === 4 || v === 6 || v === 'arp', false],
    ['src', (v) => typeof v === 'string' && isIpAddress(v), false],
    ['dport', (v) => int(v, 0, 65535), false],
    ['tcpFlags', (v) => Array.isArray(v) && v.length <= 16 && v.every((f) => typeof f === 'string' && /^[A-Z]{2,4}$/.test(f)), false],
    ['packet', (v) => textOk(v, LOG_ENTRY_MAX_BYTES, true, true), true],
  ];
  const reference = (o: Record<string, unknown>): string | undefined => {
    for (const [field, ok, required] of CONTRACT) {
      const v = o[field];
      if (v === undefined && !required) continue;
      if (!ok(v)) return field;
      if (field === 'rule') {
        const r = v as Record<string, unknown>;
        if (!textOk(r.path, 1024)) return 'path';
        if (!int(r.line, 1, 0x7fffffff)) return 'line';
        if (!textOk(r.text, 4096, true, true)) return 'text';
      }
    }
    return undefined;
  };

  it('refuses what the contract refuses, naming the same field, and copies only the known fields', () => {
    const values: Record<string, readonly unknown[]> = {
      node: ['pve1', 'pve-2', '-x', 'a.b'],
      chain: ['tap100i0-IN', 'a b', 'a\u3000b', 'x\u007fy'],
      verdict: ['DROP', 'policy DROP', 'a\tb', ''],
      ruleId: [undefined, 'r-1', 'r 1'],
      rule: [undefined, { path: 'firewall/100.fw', line: 3, text: 'IN DROP' }, { path: 'f', line: 0, text: '' }, { path: 'f\n', line: 1, text: '' }, 'x'],
      iif: [undefined, 'vmbr0', 'tap 1', 7],
      mac: [undefined, 'aa:bb:cc', 'AA:bb', 'aa:b', 'aa:bb:', 'gg:00'],
      family: [undefined, 4, 6, 'arp', '4'],
      src: [undefined, '10.0.0.1', '2001:db8::1', '10.0.0.256'],
      dport: [undefined, 22, 65536, 1.5, '22'],
      tcpFlags: [undefined, ['SYN'], ['syn'], 'SYN'],
      packet: ['IN=vmbr0 SRC=1.2.3.4 ', '', 'line\nbreak', 'del\u007f', 'quote " and \\ backslash', 'tab\tinside', 5],
      futureField: [undefined, 1, 'x'],
    };
    let valid = 0;
    for (let i = 0; i < 4000; i++) {
      const e: Record<string, unknown> = { ...SAMPLE_PACKET };
      for (const [k, vs] of Object.entries(values)) e[k] = pick(vs);
      for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
      const expectedField = reference(e);
      // Through the bytes, as the logger reads them (the clean-text proof applies to those).
      const bytes = enc(e);
      if (expectedField === undefined) {
        const { futureField: _dropped, ...known } = e;
        expect(decodeLogEntry(bytes)).toEqual(known);
        expect(Object.keys(decodeLogEntry(bytes))).not.toContain('futureField');
        valid++;
      } else {
        expect(refusal(() => decodeLogEntry(bytes)).context.field).toBe(expectedField);
        expect(refusal(() => validateLogEntry(e)).context.field).toBe(expectedField);
      }
    }
    expect(valid).toBeGreaterThan(20);
  });
});
