/**
 * Parameter schemas and their check, after PVE::JSONSchema: every parameter (path, query and
 * body together) must be declared (`additionalProperties => 0`), required ones present, and
 * values of the declared type. Integers and booleans arrive as text from forms and as numbers
 * or booleans from JSON; booleans come out as 1/0. The messages are JSONSchema's.
 */
import { LOG_LEVELS } from '@palisade/fw-lang';
import { paramError } from './rest-error.js';

/** One declared parameter. */
export type ParamSpec =
  | {
      readonly type: 'string';
      readonly optional?: boolean;
      readonly enum?: readonly string[];
      readonly pattern?: RegExp;
      readonly minLength?: number;
      readonly maxLength?: number;
      /** Extra check; returns the message of a bad value. */
      readonly check?: (value: string) => string | undefined;
    }
  | { readonly type: 'integer'; readonly optional?: boolean; readonly minimum?: number; readonly maximum?: number }
  | { readonly type: 'boolean'; readonly optional?: boolean };

/**
 * The parameters one route declares, by name, path parameters included; `checkParams` refuses a
 * parameter that is not declared, as Proxmox's `additionalProperties => 0` does.
 */
export type Schema = Readonly<Record<string, ParamSpec>>;

/** Checked values: strings, integers, booleans as 1/0. */
export type Params = Readonly<Record<string, string | number | undefined>>;

/** Raw input: path parameters, query and body merged. */
export type RawParams = Readonly<Record<string, unknown>>;

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

function text(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

function checkOne(spec: ParamSpec, raw: unknown): { value: string | number } | { error: string } {
  if (typeof raw === 'object' && raw !== null) return { error: `type check ('${spec.type}') failed - got '${text(raw)}'` };
  switch (spec.type) {
    case 'integer': {
      const s = text(raw).trim();
      if (!/^[+-]?\d+$/.test(s)) return { error: `type check ('integer') failed - got '${text(raw)}'` };
      const n = Number(s);
      if (spec.minimum !== undefined && n < spec.minimum) return { error: `value must have a minimum value of ${spec.minimum}` };
      if (spec.maximum !== undefined && n > spec.maximum) return { error: `value must have a maximum value of ${spec.maximum}` };
      return { value: n };
    }
    case 'boolean': {
      const s = text(raw).trim().toLowerCase();
      if (TRUE.has(s)) return { value: 1 };
      if (FALSE.has(s)) return { value: 0 };
      return { error: `type check ('boolean') failed - got '${text(raw)}'` };
    }
    case 'string': {
      const s = text(raw);
      // An empty optional string passes (Proxmox clients send '' to clear a field).
      if (s === '' && spec.optional) return { value: s };
      if (spec.enum && !spec.enum.includes(s)) return { error: `value '${s}' does not have a value in the enumeration '${spec.enum.join(', ')}'` };
      if (spec.minLength !== undefined && s.length < spec.minLength) return { error: `value must be at least ${spec.minLength} characters long` };
      if (spec.maxLength !== undefined && s.length > spec.maxLength) return { error: `value may only be ${spec.maxLength} characters long` };
      if (spec.pattern && !spec.pattern.test(s)) return { error: 'value does not match the regex pattern' };
      const bad = spec.check?.(s);
      if (bad !== undefined) return { error: bad };
      return { value: s };
    }
  }
}

/**
 * Checks `raw` against `schema`; throws a 400 naming every bad parameter (as JSONSchema
 * collects them) and returns the typed values.
 */
export function checkParams(schema: Schema, raw: RawParams): Params {
  const errors: Record<string, string> = {};
  const out: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(raw)) {
    const spec = schema[name];
    if (!spec) {
      errors[name] = 'property is not defined in schema and the schema does not allow additional properties';
      continue;
    }
    if (value === undefined || value === null) continue;
    const r = checkOne(spec, value);
    if ('error' in r) errors[name] = r.error;
    else out[name] = r.value;
  }
  for (const [name, spec] of Object.entries(schema)) {
    if (!spec.optional && out[name] === undefined && errors[name] === undefined) errors[name] = 'property is missing and it is not optional';
  }
  if (Object.keys(errors).length > 0) throw paramError(errors);
  return out;
}

/** `PVE::Tools::split_list`: items separated by commas, semicolons, spaces or NULs. */
export function splitList(value: string | number | undefined): string[] {
  if (value === undefined) return [];
  return String(value)
    .split(/[\s,;\0]+/)
    .filter((s) => s !== '');
}

// ---- standard options (pve-common / pve-firewall) ----

/** `pve-node`. */
export const NODE: ParamSpec = { type: 'string', pattern: /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/, maxLength: 63 };
/** `pve-vmid`. */
export const VMID: ParamSpec = { type: 'integer', minimum: 100, maximum: 999999999 };
/** `pve-sdn-vnet-id`. */
export const VNET: ParamSpec = { type: 'string', pattern: /^[a-z][a-z0-9]*[a-z0-9]$/i, maxLength: 8 };
/** `pve-config-digest`. */
export const DIGEST: ParamSpec = { type: 'string', optional: true, maxLength: 40 };
/** `pve-security-group-name`. */
export const GROUP_NAME: ParamSpec = { type: 'string', pattern: /^[A-Za-z][A-Za-z0-9\-_]+$/, minLength: 2, maxLength: 18 };
/** `ipset-name`. */
export const IPSET_NAME: ParamSpec = { type: 'string', pattern: /^[A-Za-z][A-Za-z0-9\-_]+$/, minLength: 2, maxLength: 64 };
/** `pve-fw-alias`. */
export const ALIAS_NAME: ParamSpec = { type: 'string', pattern: /^[A-Za-z][A-Za-z0-9\-_]+$/, minLength: 2, maxLength: 64 };
/** A comment. */
export const COMMENT: ParamSpec = { type: 'string', optional: true };
/** The log levels of `pve-fw-loglevel` (fw-lang's). */
export const LOG_LEVEL_VALUES = LOG_LEVELS;

/**
 * The `digest` parameter as the precondition of a write (`{ digest }`, compared with the
 * document's digest before it is changed); absent or empty: none.
 */
export function digestPrecondition(params: Params): { digest: string } | undefined {
  return typeof params.digest === 'string' && params.digest !== '' ? { digest: params.digest } : undefined;
}

/** Optional copy of a spec. */
export function optional(spec: ParamSpec): ParamSpec {
  return { ...spec, optional: true };
}
