/**
 * `ps --filter` as Docker reads it: `key=value` pairs; values of one key OR
 * together, different keys AND. Unknown keys and bad values are refused
 * rather than silently matching everything.
 */
import { invalidArgument } from '../errdefs/errdefs';
import type { Container } from './containers';

const KEYS = ['id', 'name', 'label', 'status', 'ancestor', 'exited', 'health', 'namespace'] as const;
type FilterKey = (typeof KEYS)[number];

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const HEALTH = ['starting', 'healthy', 'unhealthy', 'none'];

export type Filters = ReadonlyMap<FilterKey, readonly string[]>;

export function parseFilters(filters: readonly string[]): Filters {
  const parsed = new Map<FilterKey, string[]>();
  for (const filter of filters) {
    const eq = filter.indexOf('=');
    if (eq <= 0) throw invalidArgument(`bad filter "${filter}": expected key=value`);
    const key = filter.slice(0, eq) as FilterKey;
    const value = filter.slice(eq + 1);
    if (!KEYS.includes(key)) throw invalidArgument(`invalid filter '${key}' (supported: ${KEYS.join(', ')})`);
    if (key === 'status' && !STATUSES.includes(value)) throw invalidArgument(`invalid filter 'status=${value}'`);
    if (key === 'health' && !HEALTH.includes(value)) throw invalidArgument(`invalid filter 'health=${value}'`);
    if (key === 'exited' && !/^-?\d+$/.test(value)) throw invalidArgument(`invalid filter 'exited=${value}'`);
    parsed.set(key, [...(parsed.get(key) ?? []), value]);
  }
  return parsed;
}

/** `allNamespaces`: namespaced (CRI) containers show without a `namespace=` filter too (the extension's Containers view). */
export function matchesFilters(container: Container, filters: Filters, allNamespaces = false): boolean {
  // Namespaced (CRI) containers show only when a `namespace=` filter names their namespace, or all namespaces are asked for.
  if (container.config.namespace && !filters.has('namespace') && !allNamespaces) return false;
  for (const [key, values] of filters) {
    if (!values.some((value) => matches(container, key, value))) return false;
  }
  return true;
}

function matches(c: Container, key: FilterKey, value: string): boolean {
  switch (key) {
    case 'id':
      return c.id.startsWith(value);
    case 'name':
      return c.name.includes(value.replace(/^\//, ''));
    case 'label': {
      const eq = value.indexOf('=');
      const labels = c.config.labels;
      return eq < 0 ? value in labels : labels[value.slice(0, eq)] === value.slice(eq + 1);
    }
    case 'status':
      return c.state.status === value;
    case 'ancestor':
      return (
        c.config.image === value ||
        c.imageName === value ||
        c.imageName.startsWith(`${value}:`) ||
        c.imageName.endsWith(`/${value}`) ||
        c.imageName.includes(`/${value}:`) ||
        c.imageId === value ||
        c.imageId.slice('sha256:'.length).startsWith(value)
      );
    case 'exited':
      return c.state.status === 'exited' && c.state.exitCode === Number(value);
    case 'health':
      return c.state.health.status === value;
    case 'namespace':
      return (c.config.namespace ?? '') === value;
  }
}
