/**
 * A minimal path-template router: `/workspaces/{workspaceId}/git/pull/{remote}` style templates,
 * the same notation as the OpenAPI spec, so the route table reads like the spec's path list.
 */
export interface RouteMatch<H> {
  handler: H;
  template: string;
  params: Record<string, string>;
}

/** An OpenAPI path template (`/workspaces/{workspaceId}`) compiled for matching request paths. */
export interface PathTemplate {
  template: string;
  /** Parameter names, in order. */
  names: string[];
  /** Whether `path` fits the template (a trailing slash is tolerated). */
  test(path: string): boolean;
  /** The decoded path parameters when `path` fits (decoding throws URIError on a malformed escape). */
  match(path: string): Record<string, string> | undefined;
}

/**
 * Also the contract checker's (test/contract/openapi.ts) way of finding the spec operation of a
 * request: it only reads the notation the spec defines, so one implementation serves both.
 */
export function compilePathTemplate(template: string): PathTemplate {
  const names: string[] = [];
  const pattern = template
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param?.[1]) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param[1]);
      return '([^/]+)';
    })
    .join('/');
  const regex = new RegExp(`^${pattern}/?$`);
  return {
    template,
    names,
    test: (path) => regex.test(path),
    match(path) {
      const found = regex.exec(path);
      if (!found) return undefined;
      const params: Record<string, string> = {};
      names.forEach((name, index) => (params[name] = decodeURIComponent(found[index + 1] ?? '')));
      return params;
    },
  };
}

interface Route<H> {
  method: string;
  path: PathTemplate;
  handler: H;
}

export class Router<H> {
  private readonly routes: Route<H>[] = [];

  add(method: string, template: string, handler: H): this {
    this.routes.push({ method: method.toUpperCase(), path: compilePathTemplate(template), handler });
    return this;
  }

  /** The matching route, or `{ allowed }` listing the methods the path supports (for a 405), or undefined. */
  match(method: string, path: string): RouteMatch<H> | { allowed: string[] } | undefined {
    const allowed: string[] = [];
    for (const route of this.routes) {
      if (!route.path.test(path)) continue;
      if (route.method !== method.toUpperCase()) {
        allowed.push(route.method);
        continue;
      }
      return { handler: route.handler, template: route.path.template, params: route.path.match(path) ?? {} };
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}
