import type { FastifyInstance } from 'fastify';

/**
 * Which methods each registered path answers, so that a request for a known path with another
 * method gets 405 and an `Allow` header rather than 404. Filled from Fastify's `onRoute` hook,
 * so it must be created before the routes are registered.
 */
export class RouteMethods {
  private readonly staticPaths = new Map<string, Set<string>>();
  private readonly patterns: { url: string; pattern: RegExp; methods: Set<string> }[] = [];

  constructor(fastify: FastifyInstance) {
    fastify.addHook('onRoute', (route) => this.add(route.url ?? '', ([] as string[]).concat(route.method)));
  }

  private add(url: string, methods: string[]): void {
    // A catch-all (CORS preflight `OPTIONS *`) would make every path "known".
    if (!url || url === '*' || url === '/*') return;
    if (methods.includes('GET')) methods = [...methods, 'HEAD'];
    if (!/[:*]/.test(url)) {
      const set = this.staticPaths.get(url) ?? new Set<string>();
      methods.forEach((m) => set.add(m));
      this.staticPaths.set(url, set);
      return;
    }
    let entry = this.patterns.find((p) => p.url === url);
    if (!entry) {
      const source = url
        .split('/')
        .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      entry = { url, pattern: new RegExp(`^${source}$`), methods: new Set() };
      this.patterns.push(entry);
    }
    methods.forEach((m) => entry.methods.add(m));
  }

  /** The methods some route answers for this request URL (query ignored); empty for an unknown path. */
  allowed(requestUrl: string): string[] {
    const path = routedPath(requestUrl);
    const found = new Set(this.staticPaths.get(path));
    for (const { pattern, methods } of this.patterns) if (pattern.test(path)) methods.forEach((m) => found.add(m));
    return [...found].sort();
  }
}

/**
 * The path as Fastify's router matches it: up to the query (or a '#'), percent-decoded as decodeURI
 * does (an encoded '/', '?' or other reserved character stays encoded), and '%25' kept as it is, so
 * '/heal%74h' is '/health' here as it is there.
 */
function routedPath(url: string): string {
  let end = url.indexOf('?');
  const hash = url.indexOf('#');
  if (end === -1 || (hash !== -1 && hash < end)) end = hash;
  const path = end === -1 ? url : url.slice(0, end);
  if (!path.includes('%')) return path;
  try {
    return decodeURI(path.replace(/%25/g, '%2525'));
  } catch {
    // The router refuses such a URL before any route runs (400): nothing to match.
    return path;
  }
}
