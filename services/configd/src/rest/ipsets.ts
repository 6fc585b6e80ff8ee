/**
 * IP set endpoints of the cluster and guest scopes (Proxmox `PVE::API2::Firewall::IPSet*`):
 * list, create, rename and comment edit (`rename`), delete (`force` for a non-empty set), and
 * entries: list, add (host bits cleared, `/32` removed, written in address order as Proxmox
 * writes them), get, update (`nomatch` and `comment` replaced), delete (an absent entry is no
 * error). `{cidr}` may contain a raw `/` or `%2F`.
 */
import { cleanIpSetCidr, parseIpOrCidr } from '@palisade/fw-lang';
import type { FwScope } from '../firewall/firewall-api.js';
import { COMMENT, DIGEST, IPSET_NAME, digestPrecondition, optional, type ParamSpec } from './params.js';
import { assertUnmodified, failed, paramError } from './rest-error.js';
import type { Route, RouteContext } from './router.js';
import type { RestDeps, ScopeBase } from './scopes.js';

const ALIAS_REF = /^(dc\/|guest\/)?([A-Za-z][A-Za-z0-9\-_]+)$/;

/** `IPorCIDRorAlias`. */
const CIDR: ParamSpec = {
  type: 'string',
  check: (v) => (ALIAS_REF.test(v) || parseIpOrCidr(v).ok ? undefined : `value does not look like a valid IP address or CIDR network`),
};

/**
 * The IP set endpoints of one scope (`{prefix}/ipset`, `…/{name}`, `…/{name}/{cidr}`); routes.ts
 * adds them to the cluster and guest scopes only, the documents that have IP sets.
 */
export function ipsetRoutes(base: ScopeBase, deps: RestDeps): Route[] {
  const { api } = deps;
  const scope = (ctx: RouteContext): Promise<FwScope> => base.resolve(ctx.params, deps, ctx.caller.signal);
  const sets = `${base.prefix}/ipset`;
  const one = `${sets}/{name}`;
  const named = { ...base.schema, name: IPSET_NAME };
  const entries = async (s: FwScope, name: string, signal: AbortSignal | undefined) => {
    if (!(await api.listIpSets(s, signal)).ipsets.some((x) => x.name === name.toLowerCase())) throw failed(`no such IPSet '${name}'`);
    return api.listIpSetEntries(s, name.toLowerCase(), signal);
  };
  /**
   * What every call on one set starts with: the scope, the set's name, its entries (Proxmox's
   * error without the set), the digest given and the `{cidr}`; with `checkDigest`, a stale
   * digest is refused as Proxmox refuses it.
   */
  const setCall = async (ctx: RouteContext, checkDigest = false) => {
    const s = await scope(ctx);
    const name = String(ctx.params.name);
    const r = await entries(s, name, ctx.caller.signal);
    const d = digestPrecondition(ctx.params);
    if (checkDigest) assertUnmodified(d, r.digest);
    return { s, name, r, d, cidr: String(ctx.params.cidr) };
  };
  const entryOut = (e: { cidr: string; nomatch: boolean; comment: string; error: string }, digest: string) => ({
    cidr: e.cidr,
    ...(e.nomatch ? { nomatch: 1 } : {}),
    ...(e.comment ? { comment: e.comment } : {}),
    ...(e.error ? { errors: { cidr: e.error } } : {}),
    digest,
  });
  return [
    {
      method: 'GET',
      path: sets,
      schema: base.schema,
      handler: async (ctx) => {
        const r = await api.listIpSets(await scope(ctx), ctx.caller.signal);
        return r.ipsets.map((s) => ({ name: s.name, ...(s.comment ? { comment: s.comment } : {}), digest: r.digest }));
      },
    },
    {
      method: 'POST',
      path: sets,
      schema: { ...named, comment: COMMENT, rename: optional(IPSET_NAME), digest: DIGEST },
      handler: async (ctx) => {
        const s = await scope(ctx);
        const name = String(ctx.params.name);
        const rename = ctx.params.rename ? String(ctx.params.rename) : '';
        const comment = ctx.params.comment === undefined ? undefined : String(ctx.params.comment);
        const list = await api.listIpSets(s, ctx.caller.signal);
        const existing = new Set(list.ipsets.map((x) => x.name));
        if (rename) {
          assertUnmodified(digestPrecondition(ctx.params), list.digest);
          if (!existing.has(rename.toLowerCase())) throw paramError({ name: `IPSet '${rename}' does not exist` });
          if (existing.has(name.toLowerCase()) && name.toLowerCase() !== rename.toLowerCase()) throw paramError({ name: `IPSet '${name}' does already exist` });
        } else if (existing.has(name.toLowerCase())) {
          throw paramError({ name: `IPSet '${name}' already exists` });
        }
        await api.createIpSet(s, name, comment, digestPrecondition(ctx.params), ctx.caller, rename);
        return null;
      },
    },
    {
      method: 'GET',
      path: one,
      schema: named,
      handler: async (ctx) => {
        const { r } = await setCall(ctx);
        return r.entries.map((e) => entryOut(e, r.digest));
      },
    },
    {
      method: 'DELETE',
      path: one,
      schema: { ...named, force: { type: 'boolean', optional: true } },
      handler: async (ctx) => {
        const { s, name, r } = await setCall(ctx);
        if (r.entries.length > 0 && !ctx.params.force) throw failed(`IPSet '${name}' is not empty`);
        await api.deleteIpSet(s, name.toLowerCase(), Boolean(ctx.params.force), undefined, ctx.caller);
        return null;
      },
    },
    {
      method: 'POST',
      path: one,
      schema: { ...named, cidr: CIDR, nomatch: { type: 'boolean', optional: true }, comment: COMMENT },
      handler: async (ctx) => {
        const { s, name, r, cidr: raw } = await setCall(ctx);
        const m = ALIAS_REF.exec(raw);
        let cidr = raw;
        if (m) {
          const local = s.kind === 'guest' && m[1] !== 'dc/' ? (await api.listAliases(s, ctx.caller.signal)).aliases : [];
          const global = m[1] !== 'guest/' ? (await api.listAliases({ kind: 'cluster' }, ctx.caller.signal)).aliases : [];
          if (![...local, ...global].some((a) => a.name.toLowerCase() === m[2]!.toLowerCase())) throw failed(`no such alias '${m[2]}'`);
        } else {
          cidr = cleanIpSetCidr(raw);
        }
        if (r.entries.some((e) => e.cidr === cidr)) throw paramError({ cidr: `address '${cidr}' already exists` });
        if (/\/0+$/.test(cidr)) throw paramError({ cidr: 'a zero prefix is not allowed in ipset entries' });
        const comment = ctx.params.comment ? String(ctx.params.comment) : '';
        await api.addIpSetEntry(s, name.toLowerCase(), cidr, Boolean(ctx.params.nomatch), comment, undefined, ctx.caller);
        return null;
      },
    },
    {
      method: 'GET',
      path: `${one}/{cidr*}`,
      schema: { ...named, cidr: CIDR },
      handler: async (ctx) => {
        const { r, cidr } = await setCall(ctx);
        const e = r.entries.find((x) => x.cidr === cidr);
        if (!e) throw paramError({ cidr: 'no such IP/Network' });
        return entryOut(e, r.digest);
      },
    },
    {
      method: 'PUT',
      path: `${one}/{cidr*}`,
      schema: { ...named, cidr: CIDR, nomatch: { type: 'boolean', optional: true }, comment: COMMENT, digest: DIGEST },
      handler: async (ctx) => {
        const { s, name, r, d, cidr } = await setCall(ctx, true);
        if (!r.entries.some((x) => x.cidr === cidr)) throw paramError({ cidr: 'no such IP/Network' });
        // As Proxmox: nomatch and comment are replaced, not patched.
        const comment = ctx.params.comment ? String(ctx.params.comment) : '';
        await api.updateIpSetEntry(s, name.toLowerCase(), cidr, Boolean(ctx.params.nomatch), comment, d, ctx.caller);
        return null;
      },
    },
    {
      method: 'DELETE',
      path: `${one}/{cidr*}`,
      schema: { ...named, cidr: CIDR, digest: DIGEST },
      handler: async (ctx) => {
        const { s, name, r, d, cidr } = await setCall(ctx, true);
        // Deleting an absent entry succeeds (and changes nothing).
        if (!r.entries.some((x) => x.cidr === cidr)) return null;
        await api.deleteIpSetEntry(s, name.toLowerCase(), cidr, d, ctx.caller);
        return null;
      },
    },
  ];
}
