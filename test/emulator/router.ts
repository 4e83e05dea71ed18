/**
 * A minimal path-template router: `/workspaces/{workspaceId}/git/pull/{remote}` style templates,
 * the same notation as the OpenAPI spec, so the route table reads like the spec's path list.
 */
export interface RouteMatch<H> {
  handler: H;
  template: string;
  params: Record<string, string>;
}

interface Route<H> {
  method: string;
  template: string;
  regex: RegExp;
  names: string[];
  handler: H;
}

export class Router<H> {
  private readonly routes: Route<H>[] = [];

  add(method: string, template: string, handler: H): this {
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
    this.routes.push({
      method: method.toUpperCase(),
      template,
      regex: new RegExp(`^${pattern}/?$`),
      names,
      handler,
    });
    return this;
  }

  /** The matching route, or `{ allowed }` listing the methods the path supports (for a 405), or undefined. */
  match(method: string, path: string): RouteMatch<H> | { allowed: string[] } | undefined {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const found = route.regex.exec(path);
      if (!found) continue;
      if (route.method !== method.toUpperCase()) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.names.forEach((name, index) => {
        params[name] = decodeURIComponent(found[index + 1] ?? '');
      });
      return { handler: route.handler, template: route.template, params };
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}
