import { describe, expect, it } from 'vitest';
import { chainFingerprint, ruleFingerprint } from './fingerprint.js';
import type { Chain, Rule } from './ir.js';

const rule = (port: number, extra: Partial<Rule> = {}): Rule => ({
  matches: [{ kind: 'port', proto: 'tcp', field: 'dport', op: 'eq', ranges: [[port, port]] }],
  stmts: [{ kind: 'accept' }],
  ...extra,
});
const chain = (rules: Rule[], name = 'guest-100-in'): Chain => ({ name, rules });

describe('chainFingerprint', () => {
  it('is equal for structurally equal chains and ignores where a rule came from', () => {
    const a = chain([rule(22, { comment: 'firewall/100.fw#aaaaaaaaaaaa', origin: { path: 'firewall/100.fw', line: 3 } })]);
    const b = chain([rule(22, { comment: 'firewall/100.fw#aaaaaaaaaaaa', origin: { path: 'firewall/100.fw', line: 9 } })]);
    expect(chainFingerprint(a)).toBe(chainFingerprint(b));
  });

  it('changes with the name, a match, a comment or the number of rules', () => {
    const base = chainFingerprint(chain([rule(22)]));
    expect(chainFingerprint(chain([rule(22)], 'guest-100-out'))).not.toBe(base);
    expect(chainFingerprint(chain([rule(23)]))).not.toBe(base);
    expect(chainFingerprint(chain([rule(22, { comment: 'x' })]))).not.toBe(base);
    expect(chainFingerprint(chain([rule(22), rule(22)]))).not.toBe(base);
  });

  it('treats an undefined field as absent', () => {
    expect(chainFingerprint(chain([rule(22, { comment: undefined })]))).toBe(chainFingerprint(chain([rule(22)])));
  });

  it('is computed once per chain object', () => {
    const rules = [rule(22)];
    const c = chain(rules);
    const first = chainFingerprint(c);
    rules.push(rule(80)); // the IR is immutable; a mutation shows the cached value
    expect(chainFingerprint(c)).toBe(first);
  });
});

describe('ruleFingerprint', () => {
  it('covers matches and statements only', () => {
    expect(ruleFingerprint(rule(22, { comment: 'a', origin: { path: 'p', line: 1 } }))).toBe(ruleFingerprint(rule(22)));
    expect(ruleFingerprint(rule(23))).not.toBe(ruleFingerprint(rule(22)));
    expect(ruleFingerprint({ ...rule(22), stmts: [{ kind: 'drop' }] })).not.toBe(ruleFingerprint(rule(22)));
  });
});
