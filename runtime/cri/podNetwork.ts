/**
 * The CNI network pods attach to by default: a bridge network gantryd makes
 * on first use (bridge + host-local + portmap + loopback, its own bridge and
 * a subnet from the daemon's pools, as `network create` makes them), so pods
 * never share the default `bridge` with Docker-style containers. It shows in
 * `gantry network ls` as `k8s-pods`. With `--cri-cni-conf-dir` the first
 * conflist there is the pod network instead, as a kubelet's CNI set-up reads
 * it. docs/cri.md, "Pod networking".
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from '../context';
import { failedPrecondition, isAlreadyExists, isNotFound } from '../errdefs/errdefs';
import { parseConflist } from '../network/cni/conflist';
import { readdirOrEmpty } from '../util/files';
import type { NetworkManager } from '../network/index';

export const POD_NETWORK = 'k8s-pods';
export const POD_BRIDGE = 'gantry-pods0';

/** `--cri-pod-bridge`, `--cri-pod-subnet`, `--cri-cni-conf-dir`. */
export interface PodNetworkSettings {
  readonly bridge?: string;
  readonly subnet?: string;
  /** Conflists for pods: the first usable one (by file name, as a kubelet's CNI setup reads them) is the pod network. */
  readonly confDir?: string;
}

/** The name of the first usable conflist in `dir`, read at every sandbox start (so a change there applies to the next pod). */
async function firstConflist(dir: string): Promise<string> {
  for (const entry of (await readdirOrEmpty(dir)).sort()) {
    if (!/\.(conflist|conf|json)$/.test(entry)) continue;
    const file = path.join(dir, entry);
    try {
      return parseConflist(await fs.promises.readFile(file, 'utf8'), file).name;
    } catch {
      // unusable: the next one
    }
  }
  throw failedPrecondition(`no usable CNI conflist in ${dir} (--cri-cni-conf-dir)`);
}

/** The pod network's name, made when missing (a concurrent maker wins harmlessly). */
export async function ensurePodNetwork(
  ctx: Ctx,
  manager: Pick<NetworkManager, 'inspectNetwork' | 'createNetwork'>,
  settings: PodNetworkSettings = {},
): Promise<string> {
  if (settings.confDir) return firstConflist(settings.confDir);
  try {
    await manager.inspectNetwork(POD_NETWORK);
    return POD_NETWORK;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  try {
    await manager.createNetwork(ctx, {
      name: POD_NETWORK,
      subnet: settings.subnet,
      options: { 'com.docker.network.bridge.name': settings.bridge ?? POD_BRIDGE },
      labels: { 'io.gantry.cri': 'pod-network' },
    });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  return POD_NETWORK;
}
