/**
 * Path routing for `/api2/json/...`: templates like `cluster/firewall/rules/{pos}`, where a
 * final `{name*}` takes the rest of the path, so an IP set entry's `{cidr}` may be written
 * with a raw `/` or as `%2F` (Proxmox turns the fragment delimiter off for it).
 */
import type { Caller } from '../store/document-store.js';
import type { RestPrincipal } from './rest-auth.js';
import type { Params, Schema } from './params.js';

/**
 * The HTTP methods of Proxmox's API; any other method is answered 501, like a path the API does not
 * have.
 */
export const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
/** One of `METHODS`; a GET needs the `read` permission, the others `write` (rest-server.ts). */
export type Method = (typeof METHODS)[number];

/** What a handler gets: checked parameters, who calls, the write's bounds and the time. */
export interface RouteContext {
  readonly params: Params;
  readonly principal: RestPrincipal;
  readonly caller: Caller;
  /** Milliseconds since the epoch when the call began (the configd clock). */
  readonly nowMs: number;
}

/** One endpoint: method, path template, parameter schema (path parameters included), handler. */
export interface Route {
  readonly method: Method;
  readonly path: string;
  readonly schema: Schema;
  /** Returns the `data` of the answer (`null`/`undefined` for writes). */
  readonly handler: (ctx: RouteContext) => unknown;
}

type Segment = { readonly literal: string } | { readonly param: string; readonly rest: boolean };

interface Compiled {
  readonly route: Route;
  readonly segments: readonly Segment[];
}

/**
 * What `Router.match` found: the route with its decoded path parameters, a path without a route for
 * this method, or no such path; rest-server.ts answers both misses 501, as Proxmox does.
 */
export type RouteMatch =
  | { readonly kind: 'found'; readonly route: Route; readonly pathParams: Record<string, string> }
  | { readonly kind: 'no-method' }
  | { readonly kind: 'no-path' };

function compile(route: Route): Compiled {
  const segments = route.path.split('/').map((s): Segment => {
    const m = /^\{([a-z_-]+)(\*)?\}$/i.exec(s);
    return m ? { param: m[1]!, rest: m[2] === '*' } : { literal: s };
  });
  return { route, segments };
}

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** A route table; `match` takes the raw path below `/api2/json/` (still percent-encoded). */
export class Router {
  readonly #routes: Compiled[] = [];

  add(routes: readonly Route[]): this {
    for (const r of routes) this.#routes.push(compile(r));
    return this;
  }

  match(method: string, rawPath: string): RouteMatch {
    const parts = rawPath.replace(/^\/+|\/+$/g, '').split('/');
    let pathMatched = false;
    for (const c of this.#routes) {
      const params = matchSegments(c.segments, parts);
      if (!params) continue;
      pathMatched = true;
      if (c.route.method === method) return { kind: 'found', route: c.route, pathParams: params };
    }
    return pathMatched ? { kind: 'no-method' } : { kind: 'no-path' };
  }
}

function matchSegments(segments: readonly Segment[], parts: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i += 1) {
    const seg = segments[i]!;
    if ('literal' in seg) {
      if (parts[i] !== seg.literal) return undefined;
      continue;
    }
    if (seg.rest) {
      if (i >= parts.length) return undefined;
      const v = decode(parts.slice(i).join('/'));
      if (v === undefined || v === '') return undefined;
      params[seg.param] = v;
      return params;
    }
    const part = parts[i];
    if (part === undefined || part === '') return undefined;
    const v = decode(part);
    if (v === undefined) return undefined;
    params[seg.param] = v;
  }
  return parts.length === segments.length ? params : undefined;
}
