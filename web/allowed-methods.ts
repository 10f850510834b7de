/**
 * Which methods a path answers, read from the OpenAPI document — the one list of routes, which
 * `test/web/openapi.test.ts` checks against the router. The API's fallback uses it to tell a
 * wrong method (405 with `Allow`, as RFC 9110 §15.5.6 asks) from a path that does not exist (404).
 *
 *   request path matches a documented path   method documented there   answer
 *   ---------------------------------------   -----------------------   ----------------------
 *   no                                        —                         404
 *   yes                                       no                        405, Allow: the methods
 *   yes                                       yes                       (the route answered)
 *
 * Templates (`/api/devices/{id}`) match one path segment per parameter; a literal segment wins
 * over a parameter only in the sense that both are collected — the union of their methods is
 * what the path allows.
 */
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

export type AllowedMethods = (path: string) => string[];

export function allowedMethods(paths: Record<string, Record<string, unknown>>): AllowedMethods {
  const routes = Object.entries(paths).map(([template, ops]) => ({
    pattern: new RegExp(
      `^${template
        .split('/')
        .map((seg) => (/^\{[^}]+\}$/.test(seg) ? '[^/]+' : escapeRegExp(seg)))
        .join('/')}/?$`,
    ),
    methods: METHODS.filter((m) => m in ops).map((m) => m.toUpperCase()),
  }));
  return (path) => {
    const allowed = new Set<string>();
    for (const r of routes) if (r.pattern.test(path)) for (const m of r.methods) allowed.add(m);
    // express answers HEAD wherever it answers GET.
    if (allowed.has('GET')) allowed.add('HEAD');
    return [...allowed].sort();
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
