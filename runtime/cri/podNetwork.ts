/**
 * The CNI network pods attach to by default: a bridge network gantryd makes
 * on first use (bridge + host-local + portmap + loopback, its own bridge and
 * a subnet from the daemon's pools, as `network create` makes them), so pods
 * never share the default `bridge` with Docker-style containers. It shows in
 * `gantry network ls` as `k8s-pods`. docs/cri.md, "Pod networking".
 */
import type { Ctx } from '../context';
import { isAlreadyExists, isNotFound } from '../errdefs/errdefs';
import type { NetworkManager } from '../network/index';

export const POD_NETWORK = 'k8s-pods';
export const POD_BRIDGE = 'gantry-pods0';

/** `--cri-pod-bridge`, `--cri-pod-subnet`. */
export interface PodNetworkSettings {
  readonly bridge?: string;
  readonly subnet?: string;
}

/** The pod network's name, made when missing (a concurrent maker wins harmlessly). */
export async function ensurePodNetwork(
  ctx: Ctx,
  manager: Pick<NetworkManager, 'inspectNetwork' | 'createNetwork'>,
  settings: PodNetworkSettings = {},
): Promise<string> {
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
