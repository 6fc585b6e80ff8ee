/**
 * PVE property strings (`PVE::JSONSchema::parse_property_string`): comma-separated `key=value`
 * items, with at most one key-less item that fills the schema's default key. Used for guest
 * `netN` devices (spec §1.7) and the cluster option `log_ratelimit` (spec §2.7).
 *
 * The checks and messages follow the Perl code: duplicate and unknown keys are errors; keyed
 * boolean values accept `1|on|yes|true` and `0|off|no|false` (case-insensitive) and are then
 * checked to be `1` or `0` — so a key-less boolean item must be written `1` or `0`, as in the
 * reference; integers, numbers, ranges, enumerations, patterns and formats are checked after
 * parsing, and required keys must be present.
 */

/** How one key of a property string is checked. */
export type PropertySchemaEntry = {
  /** Key may be absent. Default false (required), as in the JSON schema. */
  readonly optional?: boolean;
  /** The key filled by a key-less item (`virtio` in `virtio,bridge=vmbr0`, `1` in `1,rate=…`). */
  readonly defaultKey?: boolean;
} & (
  | { readonly type: 'boolean' }
  | { readonly type: 'integer' | 'number'; readonly minimum?: number; readonly maximum?: number }
  | {
      readonly type: 'string';
      /** Anchored by the checker (`^(?:pattern)$`). */
      readonly pattern?: RegExp;
      readonly enum?: readonly string[];
      /** Extra check; returns an error message, or undefined when the value is fine. */
      readonly format?: (value: string) => string | undefined;
    }
  | {
      /**
       * `key=value` stores `value` under `alias` and the key itself under `keyAlias`
       * (QEMU's `virtio=<MAC>` sets `macaddr` and `model`).
       */
      readonly type: 'alias';
      readonly alias: string;
      readonly keyAlias?: string;
    }
);

/** A property-string schema: the allowed keys. */
export type PropertySchema = Readonly<Record<string, PropertySchemaEntry>>;

/** A checked value: booleans as booleans, integers and numbers as numbers, strings as written. */
export type PropertyValue = string | number | boolean;

/** Result of {@link parsePropertyString}. */
export type PropertyStringResult =
  | { readonly ok: true; readonly values: ReadonlyMap<string, PropertyValue> }
  | {
      readonly ok: false;
      /** The reference's message; for a value check `<key>: <problem>`. */
      readonly message: string;
      /** The key the problem is about, when there is one. */
      readonly key?: string;
    };

/** `PVE::JSONSchema::parse_boolean`: `1|on|yes|true` → true, `0|off|no|false` → false. */
export function parsePveBoolean(text: string): boolean | undefined {
  if (/^(?:1|on|yes|true)$/i.test(text)) return true;
  if (/^(?:0|off|no|false)$/i.test(text)) return false;
  return undefined;
}

function perlSplitComma(s: string): string[] {
  const parts = s.split(',');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

const INTEGER = /^[+-]?[0-9]+$/;
const NUMBER = /^[+-]?(?:[0-9]+\.[0-9]+|[0-9]+\.|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/**
 * Parses `text` against `schema`. Never throws. The first problem found is reported:
 * syntax problems in input order, then value checks in input order, then missing keys in
 * schema order.
 */
export function parsePropertyString(text: string, schema: PropertySchema): PropertyStringResult {
  const raw = new Map<string, string>();
  const has = (k: string): boolean => raw.has(k);
  let defaultKey: string | undefined;
  for (const part of perlSplitComma(text)) {
    if (/^\s*$/.test(part)) continue;
    const m = /^([^=\n]+)=([^\n]+)$/.exec(part);
    if (m !== null) {
      let key = m[1] as string;
      let value = m[2] as string;
      if (has(key)) return { ok: false, message: `duplicate key in comma-separated list property: ${key}`, key };
      let entry = Object.hasOwn(schema, key) ? schema[key] : undefined;
      if (entry !== undefined && entry.type === 'alias') {
        if (entry.keyAlias !== undefined) {
          if (has(entry.keyAlias)) return { ok: false, message: `key alias '${entry.keyAlias}' is already defined`, key: entry.keyAlias };
          raw.set(entry.keyAlias, key);
        }
        key = entry.alias;
        entry = Object.hasOwn(schema, key) ? schema[key] : undefined;
      }
      if (entry === undefined) return { ok: false, message: `invalid key in comma-separated list property: ${key}`, key };
      if (entry.type === 'boolean') {
        const b = parsePveBoolean(value);
        if (b !== undefined) value = b ? '1' : '0';
      }
      raw.set(key, value);
    } else if (!part.includes('=')) {
      if (defaultKey !== undefined) return { ok: false, message: `duplicate key in comma-separated list property: ${defaultKey}`, key: defaultKey };
      defaultKey = Object.keys(schema).find((k) => schema[k]?.defaultKey === true);
      if (defaultKey === undefined) return { ok: false, message: 'value without key, but schema does not define a default key' };
      if (has(defaultKey)) return { ok: false, message: `duplicate key in comma-separated list property: ${defaultKey}`, key: defaultKey };
      raw.set(defaultKey, part);
    } else {
      return { ok: false, message: 'missing key in comma-separated list property' };
    }
  }

  const values = new Map<string, PropertyValue>();
  for (const [key, value] of raw) {
    const entry = schema[key];
    if (entry === undefined || entry.type === 'alias') {
      return { ok: false, message: `invalid key in comma-separated list property: ${key}`, key };
    }
    const problem = checkValue(entry, value);
    if (typeof problem === 'string') return { ok: false, message: `${key}: ${problem}`, key };
    values.set(key, problem.value);
  }
  for (const [key, entry] of Object.entries(schema)) {
    if (entry.type === 'alias' || entry.optional === true || raw.has(key)) continue;
    return { ok: false, message: `${key}: property is missing and it is not optional`, key };
  }
  return { ok: true, values };
}

function checkValue(entry: Exclude<PropertySchemaEntry, { type: 'alias' }>, value: string): string | { value: PropertyValue } {
  switch (entry.type) {
    case 'boolean':
      if (value === '1') return { value: true };
      if (value === '0') return { value: false };
      return `type check ('boolean') failed - got '${value}'`;
    case 'integer':
    case 'number': {
      const ok = entry.type === 'integer' ? INTEGER.test(value) : NUMBER.test(value);
      if (!ok) return `type check ('${entry.type}') failed - got '${value}'`;
      const n = Number(value);
      if (entry.minimum !== undefined && n < entry.minimum) return `value must have a minimum value of ${entry.minimum}`;
      if (entry.maximum !== undefined && n > entry.maximum) return `value must have a maximum value of ${entry.maximum}`;
      return { value: n };
    }
    case 'string': {
      if (entry.enum !== undefined && !entry.enum.includes(value)) {
        return `value '${value}' does not have a value in the enumeration '${entry.enum.join(', ')}'`;
      }
      if (entry.pattern !== undefined && !new RegExp(`^(?:${entry.pattern.source})$`, entry.pattern.flags.replace(/[gy]/g, '')).test(value)) {
        return 'value does not match the regex pattern';
      }
      const bad = entry.format?.(value);
      if (bad !== undefined) return bad;
      return { value };
    }
  }
}

/** The schema of `log_ratelimit` (spec §2.7). Schema defaults are not applied by the parser. */
export const LOG_RATELIMIT_SCHEMA: PropertySchema = {
  enable: { type: 'boolean', optional: true, defaultKey: true },
  rate: { type: 'string', optional: true, pattern: /[1-9][0-9]*\/(second|minute|hour|day)/ },
  burst: { type: 'integer', optional: true, minimum: 0 },
};

/** Result of {@link parseLogRateLimit}. */
export type LogRateLimitResult =
  | {
      readonly ok: true;
      /** As given; `undefined` when `enable` is absent, which the reference treats as disabled. */
      readonly enable: boolean | undefined;
      /** `N/second|minute|hour|day`, if given. */
      readonly rate?: string;
      /** Burst in packets, if given (0 means "iptables default"). */
      readonly burst?: number;
    }
  | { readonly ok: false; readonly message: string };

/**
 * Parses the value of the cluster option `log_ratelimit`: `[enable=]0|1[,rate=N/unit][,burst=N]`.
 * An error here is fatal for the whole cluster configuration in the reference (spec §2.7).
 */
export function parseLogRateLimit(text: string): LogRateLimitResult {
  const r = parsePropertyString(text, LOG_RATELIMIT_SCHEMA);
  if (!r.ok) return { ok: false, message: r.message };
  const enable = r.values.get('enable');
  const rate = r.values.get('rate');
  const burst = r.values.get('burst');
  return {
    ok: true,
    enable: typeof enable === 'boolean' ? enable : undefined,
    ...(typeof rate === 'string' ? { rate } : {}),
    ...(typeof burst === 'number' ? { burst } : {}),
  };
}
