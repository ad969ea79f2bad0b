/**
 * Running one CNI plugin by the spec (CNI 1.0.0, "Execution protocol"): the
 * binary is found by its `type` in the plugin directories, the network
 * configuration goes to stdin, the parameters to the `CNI_*` environment
 * (CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS, CNI_PATH).
 * A zero exit with output is the result (ADD, and VERSION); a non-zero exit
 * carries error JSON on stdout, which becomes a CniPluginError naming the
 * plugin, the network and the command, with the plugin's msg and details.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GantryError, type ErrorKind, failedPrecondition } from '../../errdefs/errdefs';
import { run, SpawnError } from '../../util/exec';
import { describeError, parseError, parseResult, type CniErrorBody, type CniResult } from './result';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

/** Debian's package for the standard plugins; named in every "not found" error. */
export const CNI_PLUGINS_PACKAGE = 'containernetworking-plugins';
export const DEFAULT_CNI_BIN_DIRS: readonly string[] = ['/usr/lib/cni', '/opt/cni/bin'];

export interface PluginCall {
  readonly command: CniCommand;
  /** The plugin's `type`: the binary's name. */
  readonly type: string;
  /** The network's name, for error messages. */
  readonly network: string;
  readonly containerId: string;
  readonly netns: string;
  readonly ifname: string;
  /** CNI_ARGS key=value pairs. */
  readonly args?: readonly (readonly [string, string])[];
  readonly binDirs: readonly string[];
  /** The full configuration the plugin reads on stdin. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly signal?: AbortSignal;
}

/** A plugin said no (or could not be run): which plugin, which network, what it said. */
export class CniPluginError extends GantryError {
  constructor(
    kind: ErrorKind,
    message: string,
    readonly plugin: string,
    readonly network: string,
    readonly command: CniCommand,
    readonly body?: CniErrorBody,
  ) {
    super(kind, message);
  }
}

function isExecutable(file: string): Promise<boolean> {
  return fs.promises.access(file, fs.constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** The first `<dir>/<type>` that is executable, or undefined. */
export async function findPlugin(type: string, binDirs: readonly string[]): Promise<string | undefined> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(type)) return undefined;
  for (const dir of binDirs) {
    const file = path.join(dir, type);
    if (await isExecutable(file)) return file;
  }
  return undefined;
}

export function missingPluginError(type: string, binDirs: readonly string[], network: string): GantryError {
  return failedPrecondition(
    `network "${network}": CNI plugin "${type}" not found in ${binDirs.join(', ')}; ` +
      `install the Debian package ${CNI_PLUGINS_PACKAGE} (apt-get install ${CNI_PLUGINS_PACKAGE}) or point --cni-bin-dir at the plugins`,
  );
}

/** Throws missingPluginError for the first type not found: checked before anything is created. */
export async function requirePlugins(types: readonly string[], binDirs: readonly string[], network: string): Promise<void> {
  for (const type of types) {
    if (!(await findPlugin(type, binDirs))) throw missingPluginError(type, binDirs, network);
  }
}

function kindFor(code: number): ErrorKind {
  if (code === 11) return 'Unavailable';
  if (code === 1 || code === 2 || code === 7) return 'FailedPrecondition';
  return 'Internal';
}

/** The plugin's environment: ours minus any inherited CNI_*, plus the call's. */
export function pluginEnv(call: PluginCall): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CNI_')) env[k] = v;
  env.CNI_COMMAND = call.command;
  env.CNI_CONTAINERID = call.containerId;
  env.CNI_NETNS = call.netns;
  env.CNI_IFNAME = call.ifname;
  env.CNI_ARGS = (call.args ?? []).map(([k, v]) => `${k}=${v}`).join(';');
  env.CNI_PATH = call.binDirs.join(':');
  return env;
}

/** Runs the plugin; the parsed result for ADD/VERSION, undefined for DEL/CHECK. */
export async function invokePlugin(call: PluginCall): Promise<CniResult | undefined> {
  const where = `network "${call.network}": CNI plugin "${call.type}" ${call.command}`;
  const file = await findPlugin(call.type, call.binDirs);
  if (!file) throw missingPluginError(call.type, call.binDirs, call.network);
  let r;
  try {
    r = await run(file, [], { env: pluginEnv(call), input: JSON.stringify(call.config), signal: call.signal });
  } catch (e) {
    if (e instanceof SpawnError)
      throw new CniPluginError('FailedPrecondition', `${where}: cannot run ${file} (${e.code})`, call.type, call.network, call.command);
    throw e;
  }
  if (r.code !== 0) {
    const body = parseError(r.stdout);
    if (body)
      throw new CniPluginError(kindFor(body.code), `${where} failed: ${describeError(body)}`, call.type, call.network, call.command, body);
    const text = (r.stderr.trim() || r.stdout.trim() || '(no output)').slice(0, 2000);
    throw new CniPluginError('Internal', `${where} failed (exit ${String(r.code)}): ${text}`, call.type, call.network, call.command);
  }
  if (call.command !== 'ADD') return undefined;
  try {
    return parseResult(r.stdout);
  } catch (e) {
    throw new CniPluginError('Internal', `${where} returned ${(e as Error).message}`, call.type, call.network, call.command);
  }
}
