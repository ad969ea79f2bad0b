/**
 * Version, Status and RuntimeConfig: what a kubelet asks before anything
 * else. Status reports the two conditions the kubelet requires:
 * RuntimeReady (runc and conmon were found) and NetworkReady (CNI plugins
 * and configuration are usable — the reason names what is missing).
 */
import { GANTRY_VERSION } from '../version';
import type { CriRuntimeInfo } from './cri';
import { CgroupDriver, type StatusResponse, type VersionResponse } from './gen/runtime/v1/api';

/** The version of the CRI the kubelet asks about and we answer with (containerd and CRI-O answer the same). */
export const KUBELET_API_VERSION = '0.1.0';
export const RUNTIME_NAME = 'gantry';
export const RUNTIME_API_VERSION = 'v1';

export function versionOf(): VersionResponse {
  return {
    version: KUBELET_API_VERSION,
    runtimeName: RUNTIME_NAME,
    runtimeVersion: GANTRY_VERSION,
    runtimeApiVersion: RUNTIME_API_VERSION,
  };
}

export async function statusOf(info: CriRuntimeInfo, verbose: boolean): Promise<StatusResponse> {
  const components = await info.components();
  const missing = components.filter((c) => !c.path).map((c) => c.name);
  const network = info.networkUnavailable();
  const conditions = [
    missing.length
      ? {
          type: 'RuntimeReady',
          status: false,
          reason: 'RuntimeBinariesMissing',
          message: `not found: ${missing.join(', ')} (see gantry version)`,
        }
      : { type: 'RuntimeReady', status: true, reason: '', message: '' },
    network
      ? { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: network }
      : { type: 'NetworkReady', status: true, reason: '', message: '' },
  ];
  return {
    status: { conditions },
    info: verbose
      ? {
          config: JSON.stringify({ ...info.settings, cgroupDriver: info.cgroupDriver }),
          components: JSON.stringify(components),
          network: JSON.stringify({ ready: !network, reason: network ?? '' }),
        }
      : {},
    runtimeHandlers: [{ name: '', features: { recursiveReadOnlyMounts: false, userNamespaces: false } }],
    // security.ts applies supplemental_groups_policy (Merge and Strict).
    features: { supplementalGroupsPolicy: true },
  };
}

export function cgroupDriverOf(info: CriRuntimeInfo): CgroupDriver {
  return info.cgroupDriver === 'systemd' ? CgroupDriver.SYSTEMD : CgroupDriver.CGROUPFS;
}
