import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLogRateLimit, parsePropertyString, parsePveBoolean, type PropertySchema } from './property-string.js';

describe('parsePveBoolean', () => {
  it('accepts the PVE spellings case-insensitively', () => {
    for (const t of ['1', 'on', 'YES', 'True']) expect(parsePveBoolean(t)).toBe(true);
    for (const f of ['0', 'OFF', 'no', 'false']) expect(parsePveBoolean(f)).toBe(false);
    for (const x of ['', '2', 'y', 'enabled']) expect(parsePveBoolean(x)).toBeUndefined();
  });
});

const schema: PropertySchema = {
  model: { type: 'string', enum: ['virtio', 'e1000'], defaultKey: true },
  virtio: { type: 'alias', alias: 'macaddr', keyAlias: 'model' },
  e1000: { type: 'alias', alias: 'macaddr', keyAlias: 'model' },
  macaddr: { type: 'string', optional: true, pattern: /[0-9a-f:]+/i },
  firewall: { type: 'boolean', optional: true },
  tag: { type: 'integer', optional: true, minimum: 1, maximum: 4094 },
  rate: { type: 'number', optional: true, minimum: 0 },
};

describe('parsePropertyString', () => {
  it('parses keyed items, the default key and key aliases', () => {
    const r = parsePropertyString('virtio=AA:BB,firewall=yes,tag=5,rate=1.5', schema);
    expect(r).toEqual({
      ok: true,
      values: new Map<string, unknown>([
        ['model', 'virtio'],
        ['macaddr', 'AA:BB'],
        ['firewall', true],
        ['tag', 5],
        ['rate', 1.5],
      ]),
    });
    const d = parsePropertyString('e1000,macaddr=aa,firewall=0', schema);
    expect(d.ok && d.values.get('model')).toBe('e1000');
    expect(d.ok && d.values.get('firewall')).toBe(false);
    // Empty items are skipped.
    expect(parsePropertyString('model=virtio,,firewall=1,', schema).ok).toBe(true);
  });

  it('reports syntax problems with the reference messages', () => {
    expect(parsePropertyString('model=virtio,firewall=1,firewall=0', schema)).toEqual({
      ok: false,
      message: 'duplicate key in comma-separated list property: firewall',
      key: 'firewall',
    });
    expect(parsePropertyString('model=virtio,colour=red', schema)).toEqual({
      ok: false,
      message: 'invalid key in comma-separated list property: colour',
      key: 'colour',
    });
    expect(parsePropertyString('virtio,e1000', schema)).toMatchObject({ ok: false, message: 'duplicate key in comma-separated list property: model' });
    expect(parsePropertyString('model=virtio,virtio', schema)).toMatchObject({ ok: false, message: 'duplicate key in comma-separated list property: model' });
    expect(parsePropertyString('model=e1000,virtio=aa', schema)).toMatchObject({ ok: false, message: "key alias 'model' is already defined" });
    expect(parsePropertyString('model=virtio,firewall=', schema)).toEqual({ ok: false, message: 'missing key in comma-separated list property' });
    expect(parsePropertyString('model=virtio,=1', schema)).toEqual({ ok: false, message: 'missing key in comma-separated list property' });
    expect(parsePropertyString('x', { a: { type: 'boolean' } })).toEqual({
      ok: false,
      message: 'value without key, but schema does not define a default key',
    });
  });

  it('checks values', () => {
    expect(parsePropertyString('model=rtl', schema)).toMatchObject({
      ok: false,
      message: "model: value 'rtl' does not have a value in the enumeration 'virtio, e1000'",
    });
    expect(parsePropertyString('virtio,tag=0', schema)).toMatchObject({ ok: false, message: 'tag: value must have a minimum value of 1' });
    expect(parsePropertyString('virtio,tag=4095', schema)).toMatchObject({ ok: false, message: 'tag: value must have a maximum value of 4094' });
    expect(parsePropertyString('virtio,tag=1.5', schema)).toMatchObject({ ok: false, message: "tag: type check ('integer') failed - got '1.5'" });
    expect(parsePropertyString('virtio,rate=x', schema)).toMatchObject({ ok: false, message: "rate: type check ('number') failed - got 'x'" });
    expect(parsePropertyString('virtio,firewall=maybe', schema)).toMatchObject({
      ok: false,
      message: "firewall: type check ('boolean') failed - got 'maybe'",
    });
    expect(parsePropertyString('virtio,macaddr=zz', schema)).toMatchObject({ ok: false, message: 'macaddr: value does not match the regex pattern' });
    expect(parsePropertyString('firewall=1', schema)).toMatchObject({ ok: false, message: 'model: property is missing and it is not optional' });
  });

  it('never throws', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(typeof parsePropertyString(s, schema).ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseLogRateLimit', () => {
  it('parses the forms of spec §2.7', () => {
    expect(parseLogRateLimit('1')).toEqual({ ok: true, enable: true });
    expect(parseLogRateLimit('0')).toEqual({ ok: true, enable: false });
    expect(parseLogRateLimit('enable=1,rate=10/minute,burst=20')).toEqual({ ok: true, enable: true, rate: '10/minute', burst: 20 });
    expect(parseLogRateLimit('1,rate=5/second')).toEqual({ ok: true, enable: true, rate: '5/second' });
    expect(parseLogRateLimit('enable=on')).toEqual({ ok: true, enable: true });
    expect(parseLogRateLimit('enable=FALSE')).toEqual({ ok: true, enable: false });
    // Without `enable` the reference disables rate limiting; the parser reports it as absent.
    expect(parseLogRateLimit('rate=10/minute')).toEqual({ ok: true, enable: undefined, rate: '10/minute' });
    expect(parseLogRateLimit('burst=0')).toEqual({ ok: true, enable: undefined, burst: 0 });
  });

  it('rejects invalid values', () => {
    expect(parseLogRateLimit('1,rate=0/second')).toEqual({ ok: false, message: 'rate: value does not match the regex pattern' });
    expect(parseLogRateLimit('1,rate=10/sec')).toEqual({ ok: false, message: 'rate: value does not match the regex pattern' });
    expect(parseLogRateLimit('1,burst=-1')).toEqual({ ok: false, message: 'burst: value must have a minimum value of 0' });
    expect(parseLogRateLimit('1,limit=3')).toEqual({ ok: false, message: 'invalid key in comma-separated list property: limit' });
    expect(parseLogRateLimit('1,0')).toEqual({ ok: false, message: 'duplicate key in comma-separated list property: enable' });
    // A key-less boolean must be 0 or 1 (it is not normalised like keyed values).
    expect(parseLogRateLimit('on')).toEqual({ ok: false, message: "enable: type check ('boolean') failed - got 'on'" });
  });
});
