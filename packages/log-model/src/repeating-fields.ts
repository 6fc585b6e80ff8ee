/**
 * The checks of the packet fields whose values repeat from entry to entry (node, chain,
 * verdict, rule id, device names, protocol, the rule's path and text): each value is checked
 * and quoted as JSON the first time it is seen, then looked up. The encoder (`packet-json.ts`)
 * uses the quoted literal, the decoder (`packet-check.ts`) only that the value passed; both get
 * the refusals of `field-checks.ts`, so their messages are the same.
 */
import { FIELD_LIMITS, ID_RULE, MAX_IFNAME_CHARS, MAX_NAME_CHARS, WHITE_SPACE, checkText, describe, fail, type TextRule } from './field-checks.js';
import { isValidNodeName } from './subject.js';

/** What a JSON string literal cannot hold as it is (control characters, quote, backslash, surrogates), or a check refuses. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const NEEDS_CARE = /[\u0000-\u001f\u007f"\\\ud800-\udfff]/;

/**
 * The JSON literal of a checked text value. The fast path is a scan for characters that need
 * quoting or a closer look; anything it does not pass goes through `checkText()`, which throws
 * the refusal naming `field` (or passes, and the value is quoted as `JSON.stringify` quotes it).
 */
export function textJson(v: unknown, field: string, rule: TextRule): string {
  if (typeof v === 'string' && v.length <= rule.maxChars && (v.length > 0 || rule.empty === true) && !NEEDS_CARE.test(v) && (rule.spaces !== false || !WHITE_SPACE.test(v))) {
    return `"${v}"`;
  }
  return JSON.stringify(checkText(v, field, rule));
}

/** Values seen per cache before it is emptied: a ruleset has a few hundred of each. */
const CACHE_LIMIT = 1024;

/** Checked literals of one repeating field, bounded (emptied when full). */
export class LiteralCache {
  readonly #literals = new Map<string, string>();
  constructor(
    readonly field: string,
    readonly rule: TextRule,
    readonly extra?: (v: string) => void,
  ) {}

  /** `"<literal>"` of `v`, checked the first time the value is seen; throws the refusal naming the field. */
  literal(v: unknown): string {
    if (typeof v === 'string') {
      const hit = this.#literals.get(v);
      if (hit !== undefined) return hit;
    }
    const lit = textJson(v, this.field, this.rule);
    this.extra?.(v as string);
    if (this.#literals.size >= CACHE_LIMIT) this.#literals.clear();
    this.#literals.set(v as string, lit);
    return lit;
  }

  /** `v` itself, checked (the decoder's use). */
  checked(v: unknown): string {
    this.literal(v);
    return v as string;
  }

  /** `,"<field>":<literal>` when present, '' when absent. */
  optional(v: unknown): string {
    return v === undefined ? '' : `,"${this.field}":${this.literal(v)}`;
  }
}

const NO_SPACES = { maxChars: MAX_NAME_CHARS, spaces: false } as const;
const DEVICE = { maxChars: MAX_IFNAME_CHARS, spaces: false } as const;

/** One cache per repeating field (module-wide: the checks do not depend on the caller). */
export const REPEATING = {
  node: new LiteralCache('node', { maxChars: FIELD_LIMITS.nodeChars }, (v) => {
    if (!isValidNodeName(v)) fail('node', `invalid node name ${describe(v)}`);
  }),
  chain: new LiteralCache('chain', NO_SPACES),
  verdict: new LiteralCache('verdict', { maxChars: MAX_NAME_CHARS }),
  ruleId: new LiteralCache('ruleId', ID_RULE),
  iif: new LiteralCache('iif', DEVICE),
  oif: new LiteralCache('oif', DEVICE),
  physIn: new LiteralCache('physIn', DEVICE),
  physOut: new LiteralCache('physOut', DEVICE),
  proto: new LiteralCache('proto', { maxChars: FIELD_LIMITS.protoChars, spaces: false }),
  rulePath: new LiteralCache('path', { maxChars: FIELD_LIMITS.rulePathChars }),
  ruleText: new LiteralCache('text', { maxChars: FIELD_LIMITS.ruleTextChars, empty: true }),
} as const;
