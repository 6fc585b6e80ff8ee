/** Every REST endpoint, assembled per scope. */
import { aliasRoutes } from './aliases.js';
import { groupRoutes } from './groups.js';
import { ipsetRoutes } from './ipsets.js';
import { logRoutes } from './logs.js';
import { clusterRoutes, indexRoutes } from './misc.js';
import { optionRoutes } from './option-routes.js';
import { Router } from './router.js';
import { groupRuleRoutes, scopeRuleRoutes } from './rules.js';
import { SCOPE_BASES, type RestDeps } from './scopes.js';

/** The router of the whole API below `/api2/json`. */
export function buildRouter(deps: RestDeps, configdVersion: string): Router {
  const router = new Router().add(clusterRoutes(deps, configdVersion));
  for (const base of SCOPE_BASES) {
    router.add(indexRoutes(base, deps)).add(scopeRuleRoutes(base, deps)).add(optionRoutes(base, deps)).add(logRoutes(base, deps));
    // Aliases and IP sets exist in the cluster and guest documents only.
    if (base.env === 'cluster' || base.env === 'vm' || base.env === 'ct') router.add(aliasRoutes(base, deps)).add(ipsetRoutes(base, deps));
  }
  router.add(groupRoutes(deps)).add(groupRuleRoutes(deps));
  return router;
}
