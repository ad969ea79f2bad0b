// A container record's config with every field at its default (busybox, no
// network), for tests that build specs or records without a daemon.
import type { ContainerConfig } from '../../runtime/containers/containers';

export function containerConfig(over: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    image: 'busybox',
    env: [],
    labels: {},
    mounts: [],
    tmpfs: [],
    readOnlyRootfs: false,
    memoryBytes: 0,
    nanoCpus: 0,
    pidsLimit: 0,
    capAdd: [],
    capDrop: [],
    network: 'none',
    restartPolicy: { name: 'no', maximumRetryCount: 0 },
    tty: false,
    openStdin: false,
    autoRemove: false,
    ...over,
  };
}
