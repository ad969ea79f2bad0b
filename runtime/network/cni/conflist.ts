/**
 * Network configuration lists (CNI 1.0.0, "Network configuration") and their
 * execution: ADD runs the plugins in order, each given the previous plugin's
 * result as `prevResult`; DEL runs them in reverse; CHECK in order; DEL and
 * CHECK get the cached result of the ADD as `prevResult`. Each plugin's stdin
 * is its own entry plus the list's `name` and `cniVersion`, and
 * `runtimeConfig` holds only the capabilities that plugin declares
 * (`capabilities: {"portMappings": true}` and so on), as the spec says.
 *
 * A failed ADD is undone here: DEL runs over the whole list (the spec asks the
 * runtime to do so) before the error is thrown, so nothing is half-made.
 */
import { invalidArgument } from '../../errdefs/errdefs';
import { invokePlugin, requirePlugins, type CniCommand } from './plugin';
import { resultFromJson, type CniResult } from './result';

export interface PluginConf {
  readonly type: string;
  readonly capabilities?: Readonly<Record<string, boolean>>;
  readonly [key: string]: unknown;
}

export interface Conflist {
  readonly cniVersion: string;
  readonly name: string;
  readonly disableCheck?: boolean;
  readonly plugins: readonly PluginConf[];
}

/** portmap's capability entry (CNI conventions, "portMappings"). */
export interface CniPortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp';
  /** '' for every host address. */
  readonly hostIP: string;
}

/** What the runtime hands plugins through capabilities (CNI conventions). */
export interface RuntimeConfig {
  readonly portMappings?: readonly CniPortMapping[];
  readonly mac?: string;
  readonly ips?: readonly string[];
}

export interface ConflistCall {
  readonly containerId: string;
  readonly netns: string;
  readonly ifname: string;
  readonly binDirs: readonly string[];
  readonly runtimeConfig?: RuntimeConfig;
  readonly args?: readonly (readonly [string, string])[];
  readonly signal?: AbortSignal;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Validates a decoded conflist (or single-plugin .conf, turned into a list of one). */
export function conflistFromJson(json: unknown, source: string): Conflist {
  const bad = (why: string) => invalidArgument(`CNI config ${source}: ${why}`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('not a JSON object');
  const o = json as Record<string, unknown>;
  if (typeof o.name !== 'string' || !NAME.test(o.name)) throw bad(`invalid or missing "name"`);
  if (typeof o.cniVersion !== 'string' || o.cniVersion === '') throw bad('missing "cniVersion"');
  let plugins: unknown[];
  if (Array.isArray(o.plugins)) plugins = o.plugins;
  else if (typeof o.type === 'string') {
    const { name: _n, cniVersion: _v, ...plugin } = o;
    plugins = [plugin];
  } else throw bad('neither "plugins" nor "type"');
  if (plugins.length === 0) throw bad('"plugins" is empty');
  for (const [i, p] of plugins.entries()) {
    if (typeof p !== 'object' || p === null || typeof (p as { type?: unknown }).type !== 'string') {
      throw bad(`plugins[${i}] has no "type"`);
    }
  }
  return {
    cniVersion: o.cniVersion,
    name: o.name,
    ...(o.disableCheck === true ? { disableCheck: true } : {}),
    plugins: plugins as PluginConf[],
  };
}

export function parseConflist(text: string, source: string): Conflist {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalidArgument(`CNI config ${source}: not JSON: ${(e as Error).message}`);
  }
  return conflistFromJson(json, source);
}

/** The plugin binaries a conflist needs (IPAM plugins included). */
export function pluginTypes(list: Conflist): string[] {
  const types = new Set<string>();
  for (const p of list.plugins) {
    types.add(p.type);
    const ipam = p.ipam as { type?: unknown } | undefined;
    if (ipam && typeof ipam.type === 'string') types.add(ipam.type);
  }
  return [...types];
}

/** The stdin of one plugin: its entry, name, cniVersion, runtimeConfig by capability, prevResult. */
export function pluginStdin(
  list: Conflist,
  plugin: PluginConf,
  runtimeConfig: RuntimeConfig | undefined,
  prevResult: CniResult | undefined,
): Record<string, unknown> {
  const config: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  delete config.runtimeConfig;
  delete config.prevResult;
  const rc: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) {
    const value = (runtimeConfig as Record<string, unknown> | undefined)?.[cap];
    if (on && value !== undefined) rc[cap] = value;
  }
  if (Object.keys(rc).length > 0) config.runtimeConfig = rc;
  if (prevResult) config.prevResult = prevResult;
  return config;
}

async function runOne(command: CniCommand, list: Conflist, plugin: PluginConf, call: ConflistCall, prev?: CniResult) {
  return invokePlugin({
    command,
    type: plugin.type,
    network: list.name,
    containerId: call.containerId,
    netns: call.netns,
    ifname: call.ifname,
    args: call.args,
    binDirs: call.binDirs,
    config: pluginStdin(list, plugin, call.runtimeConfig, prev),
    signal: call.signal,
  });
}

/** ADD over the list; on failure, DEL over the list, then the ADD's error is thrown. */
export async function addNetwork(list: Conflist, call: ConflistCall): Promise<CniResult> {
  await requirePlugins(pluginTypes(list), call.binDirs, list.name);
  let prev: CniResult | undefined;
  try {
    for (const plugin of list.plugins) {
      const result = await runOne('ADD', list, plugin, call, prev);
      // A plugin that prints nothing leaves the previous result standing.
      if (result) prev = result;
    }
  } catch (e) {
    await delNetwork(list, { ...call, signal: undefined }, prev).catch(() => undefined);
    throw e;
  }
  if (!prev) return resultFromJson({ cniVersion: list.cniVersion });
  return prev;
}

/** DEL over the list in reverse. Every plugin runs even if one fails; the first error is thrown. */
export async function delNetwork(list: Conflist, call: ConflistCall, prevResult?: CniResult): Promise<void> {
  await requirePlugins(pluginTypes(list), call.binDirs, list.name);
  let first: { error: unknown } | undefined;
  for (const plugin of [...list.plugins].reverse()) {
    try {
      await runOne('DEL', list, plugin, call, prevResult);
    } catch (e) {
      first ??= { error: e };
    }
  }
  if (first) throw first.error;
}

/**
 * CHECK over the list (skipped where the list disables it or predates 0.4.0).
 * portmap up to v1.2 fails CHECK on a container without an IPv6 address
 * (it looks for ip6tables rules it never made; docs/networking.md, "Known
 * plugin quirks"), so portmap is not CHECKed then.
 */
export async function checkNetwork(list: Conflist, call: ConflistCall, prevResult: CniResult): Promise<void> {
  if (list.disableCheck || /^0\.[0-3]\./.test(list.cniVersion)) return;
  const hasIPv6 = prevResult.ips.some((ip) => ip.address.includes(':'));
  for (const plugin of list.plugins) {
    if (plugin.type === 'portmap' && !hasIPv6) continue;
    await runOne('CHECK', list, plugin, call, prevResult);
  }
}
