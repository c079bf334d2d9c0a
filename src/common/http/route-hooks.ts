import type { RouteOptions } from 'fastify';

type RouteHookName = 'onRequest' | 'preValidation';
type RouteHook<K extends RouteHookName> = NonNullable<RouteOptions[K]> extends infer H ? (H extends readonly (infer F)[] ? F : H) : never;

/**
 * Puts a hook first among a route's own `name` hooks, from an `onRoute` hook: the way to give some
 * routes a hook without a global one, which would run (and cost) on every request of every route.
 */
export function prependRouteHook<K extends RouteHookName>(route: RouteOptions, name: K, hook: RouteHook<K>): void {
  const existing = route[name];
  const hooks = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
  (route as Record<K, unknown>)[name] = [hook, ...hooks];
}
