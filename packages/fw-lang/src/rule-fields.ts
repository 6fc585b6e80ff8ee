/**
 * The one table of a firewall rule's fields. The model (`Rule`, `RuleSpec`), the rule-line
 * tokeniser and writer, the editor, configd's rule views, its Proxmox REST parameters, the
 * gRPC mapping and the CLI's flags are all derived from `RULE_FIELDS`; adding a field here is
 * the whole change in the language library.
 */

/** Log levels of rules and policies (syslog names, plus `nolog`). */
export const LOG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug', 'nolog'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The rule types: direction, or `group` for a security group reference. */
export const RULE_TYPES = ['in', 'out', 'forward', 'group'] as const;
/** One of {@link RULE_TYPES}. */
export type RuleType = (typeof RULE_TYPES)[number];

/**
 * Where a field lives in a rule line: `head` (`TYPE ACTION` or `TYPE Macro(ACTION)`), an
 * `option` (`-flag value`), the `comment` after `#`, or the `enable` flag (a leading `|`).
 */
export type RuleFieldKind = 'head' | 'option' | 'comment' | 'enable';

/** What the Proxmox API accepts for a field (PVE::Firewall `$rule_properties`). */
export interface RuleFieldApiFormat {
  readonly enum?: readonly string[];
  readonly pattern?: RegExp;
  readonly minLength?: number;
  readonly maxLength?: number;
}

/** One field of a rule. */
export interface RuleFieldDef {
  /** Property name in the model, `RuleSpec` and the generated gRPC types (`icmpType`). */
  readonly key: string;
  /** Proxmox API parameter, error key and CLI flag name (`icmp-type`). */
  readonly api: string;
  readonly kind: RuleFieldKind;
  /** `type` and `action`: every rule has them; the others are optional and can be removed. */
  readonly required?: boolean;
  /** For options: the flag the writer prints (`-p`). */
  readonly flag?: string;
  /** For options: the spellings the tokeniser accepts, as a regular expression source. */
  readonly parseFlags?: string;
  /** For options: the value the tokeniser accepts (default one non-blank word). */
  readonly valuePattern?: string;
  /** For options: allowed on a `GROUP` rule (only `-i` is). */
  readonly onGroupRule?: boolean;
  /** True for fields whose errors a rule can carry (`RuleError.field` is then `api`). */
  readonly validated?: boolean;
  readonly apiFormat?: RuleFieldApiFormat;
  /** One line for help texts. */
  readonly description: string;
}

const WORD = '(\\S+)';

/**
 * Every rule field, in the order of the reference's writer (`PVE::Firewall::format_rule`):
 * `[|]TYPE [Macro(]ACTION[)] -i -source -dest -p -dport -sport -log -icmp-type # comment`.
 */
export const RULE_FIELDS = [
  {
    key: 'type',
    api: 'type',
    kind: 'head',
    required: true,
    validated: true,
    apiFormat: { enum: RULE_TYPES },
    description: 'in, out, forward or group',
  },
  {
    key: 'action',
    api: 'action',
    kind: 'head',
    required: true,
    validated: true,
    apiFormat: { pattern: /^[A-Za-z][A-Za-z0-9\-_]+$/, minLength: 2, maxLength: 20 },
    description: 'ACCEPT, DROP, REJECT (or the group name for type group)',
  },
  { key: 'macro', api: 'macro', kind: 'head', validated: true, apiFormat: { maxLength: 128 }, description: 'macro name, e.g. SSH' },
  {
    key: 'iface',
    api: 'iface',
    kind: 'option',
    flag: '-i',
    parseFlags: '-i',
    onGroupRule: true,
    validated: true,
    apiFormat: { pattern: /^[a-zA-Z][a-zA-Z0-9_]{1,20}([:.]\d+)?$/, minLength: 2, maxLength: 20 },
    description: 'interface, e.g. net0',
  },
  { key: 'source', api: 'source', kind: 'option', flag: '-source', validated: true, apiFormat: { maxLength: 512 }, description: 'source address, alias or +ipset' },
  { key: 'dest', api: 'dest', kind: 'option', flag: '-dest', validated: true, apiFormat: { maxLength: 512 }, description: 'destination address, alias or +ipset' },
  { key: 'proto', api: 'proto', kind: 'option', flag: '-p', parseFlags: '(?:-p|--?proto)', validated: true, description: 'protocol, e.g. tcp' },
  { key: 'dport', api: 'dport', kind: 'option', flag: '-dport', validated: true, description: 'destination ports' },
  { key: 'sport', api: 'sport', kind: 'option', flag: '-sport', validated: true, description: 'source ports' },
  {
    key: 'log',
    api: 'log',
    kind: 'option',
    flag: '-log',
    valuePattern: `(${LOG_LEVELS.join('|')})`,
    validated: true,
    apiFormat: { enum: LOG_LEVELS },
    description: 'log level',
  },
  { key: 'icmpType', api: 'icmp-type', kind: 'option', flag: '-icmp-type', validated: true, description: 'ICMP type' },
  { key: 'comment', api: 'comment', kind: 'comment', description: 'comment' },
  { key: 'enable', api: 'enable', kind: 'enable', description: 'enabled (false: written with a leading |)' },
] as const satisfies readonly RuleFieldDef[];

type FieldDef = (typeof RULE_FIELDS)[number];
/** The property name of a rule field (`RuleSpec`'s keys). */
export type RuleFieldKey = FieldDef['key'];
type ValueOf<K extends RuleFieldKey> = K extends 'enable' ? boolean : K extends 'log' ? LogLevel : string;

/**
 * The fields of a rule as the API sets them. `type` and `action` are required; `enable`
 * defaults to true (false writes the rule with a leading `|`).
 */
export type RuleSpec = { readonly [D in Extract<FieldDef, { required: true }> as D['key']]: ValueOf<D['key']> } & {
  readonly [D in Exclude<FieldDef, { required: true }> as D['key']]?: ValueOf<D['key']>;
};

/** The optional fields of a rule: those an update may remove. */
export type RuleSpecField = Exclude<FieldDef, { required: true }>['key'];

/** The values a parsed rule holds, as written (`Rule` adds line, enabled flag, IP version, errors). */
export type RuleValues = Omit<RuleSpec, 'enable'>;

/** The rule fields that can carry a validation error (the reference's error keys). */
export type RuleField = Extract<FieldDef, { validated: true }>['api'];

/**
 * The fields a rule's identifier is computed from, in the order of the hash input. The order is
 * fixed since the first release so that identifiers stay the same across versions; it is not
 * the writer's (`-log` before `-icmp-type` there).
 */
export const RULE_ID_FIELDS: readonly Exclude<RuleFieldKey, 'comment' | 'enable'>[] = [
  'type',
  'action',
  'macro',
  'iface',
  'source',
  'dest',
  'proto',
  'dport',
  'sport',
  'icmpType',
  'log',
];

const BY_NAME: ReadonlyMap<string, FieldDef> = new Map(
  RULE_FIELDS.flatMap((d): [string, FieldDef][] => [
    [d.key, d],
    [d.api, d],
    [d.api.replace(/-/g, '_'), d],
  ]),
);

/** A field by its property name, Proxmox name or Proxmox name with `_` (`icmp_type`). */
export function ruleFieldByName(name: string): RuleFieldDef | undefined {
  return BY_NAME.get(name);
}

/** One option a rule line can carry, with the pattern the tokeniser tries. */
export interface RuleOptionPattern {
  readonly key: Exclude<RuleSpecField, 'macro' | 'comment' | 'enable'>;
  readonly pattern: RegExp;
  readonly onGroupRule: boolean;
}

/** The rule-line options the tokeniser tries (spec §3.2 step 4); their flags never overlap. */
export const RULE_OPTION_PATTERNS: readonly RuleOptionPattern[] = RULE_FIELDS.filter((d) => d.kind === 'option').map((d: RuleFieldDef) => ({
  key: d.key as RuleOptionPattern['key'],
  pattern: new RegExp(`^${d.parseFlags ?? `--?${d.api}`} ${d.valuePattern ?? WORD}\\s*`),
  onGroupRule: d.onGroupRule === true,
}));

/**
 * Copies the rule values of `source` onto `target`, in table order: each field whose value
 * `present` accepts (default: defined). For gRPC messages, where an absent string is `''`, pass
 * `(v) => v !== ''`. Returns `target`. (Assigning in place keeps the objects fast to read; a
 * spread of the result would not.)
 */
export function copyRuleFields<T extends object>(
  target: T,
  source: Readonly<Partial<Record<RuleFieldKey, unknown>>>,
  present?: (value: unknown) => boolean,
): T & Partial<Record<RuleFieldKey, unknown>> {
  const out = target as T & Partial<Record<RuleFieldKey, unknown>>;
  for (const key of FIELD_KEYS) {
    const v = source[key];
    if (v !== undefined && (present === undefined || present(v))) out[key] = v;
  }
  return out;
}

/** The rule values of `source` as a new object (see `copyRuleFields`). */
export function pickRuleFields(
  source: Readonly<Partial<Record<RuleFieldKey, unknown>>>,
  present?: (value: unknown) => boolean,
): Partial<Record<RuleFieldKey, unknown>> {
  return copyRuleFields({}, source, present);
}

// Plain arrays of one shape each, so that the per-rule loops stay monomorphic (the table's
// entries all differ in shape).
const FIELD_KEYS: readonly RuleFieldKey[] = RULE_FIELDS.map((d) => d.key);
const WRITER_OPTIONS: readonly { readonly key: string; readonly flag: string; readonly onGroupRule: boolean }[] = (RULE_FIELDS as readonly RuleFieldDef[])
  .filter((d) => d.kind === 'option')
  .map((d) => ({ key: d.key, flag: d.flag ?? '', onGroupRule: d.onGroupRule === true }));

/** Canonical rule line (spec §1.8). `inGroup` omits `-i`, which rules inside a group do not allow. */
export function formatRule(spec: RuleSpec, options: { inGroup?: boolean } = {}): string {
  const type = spec.type.toUpperCase();
  let out = `${spec.enable === false ? '|' : ''}${type} `;
  out += spec.macro !== undefined && type !== 'GROUP' ? `${spec.macro}(${spec.action})` : spec.action;
  const values = spec as Readonly<Record<string, string | boolean | undefined>>;
  for (const { key, flag, onGroupRule } of WRITER_OPTIONS) {
    const value = values[key];
    if (typeof value !== 'string') continue;
    if (onGroupRule ? options.inGroup : type === 'GROUP') continue;
    out += ` ${flag} ${value}`;
  }
  if (spec.comment !== undefined && spec.comment !== '') out += ` # ${spec.comment}`;
  return out;
}

/** The options of `RULE_ID_FIELDS`, in its order, with their flags. */
const ID_OPTIONS: readonly { readonly key: RuleOptionPattern['key']; readonly flag: string }[] = RULE_ID_FIELDS.flatMap((key) => {
  const d = BY_NAME.get(key) as RuleFieldDef;
  return d.kind === 'option' && d.flag ? [{ key: key as RuleOptionPattern['key'], flag: d.flag }] : [];
});

/**
 * What a rule matches and does as one line, in `RULE_ID_FIELDS` order and without comment or
 * `|` (`IN SSH(ACCEPT) -source admins -log info`): the text the compiler's rule ids hash, so
 * whitespace, option order, the comment and enabling do not change an id.
 */
export function canonicalRuleText(r: RuleValues): string {
  let out = `${r.type.toUpperCase()} ${r.macro !== undefined ? `${r.macro}(${r.action})` : r.action}`;
  for (const { key, flag } of ID_OPTIONS) {
    const v = r[key];
    if (v !== undefined) out += ` ${flag} ${v}`;
  }
  return out;
}
