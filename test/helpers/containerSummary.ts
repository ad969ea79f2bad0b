// A ContainerSummary as the API sends it, every field at a plain default
// (a running busybox `sh` with no network), for tests of what the CLI and
// the views show. Tests name only what they look at.
import { ContainerStatus, HealthStatus, type ContainerSummary } from '../../runtime/api/gen/gantry/v1/containers';

export function containerSummary(over: Partial<ContainerSummary> = {}): ContainerSummary {
  return {
    id: 'a'.repeat(64),
    name: 'web',
    image: 'docker.io/library/busybox:latest',
    imageName: 'docker.io/library/busybox:latest',
    imageId: `sha256:${'f'.repeat(64)}`,
    command: ['sh'],
    status: ContainerStatus.CONTAINER_STATUS_RUNNING,
    exitCode: 0,
    oomKilled: false,
    createdAt: undefined,
    startedAt: undefined,
    finishedAt: undefined,
    health: HealthStatus.HEALTH_STATUS_NONE,
    restartCount: 0,
    pid: 0,
    labels: {},
    mounts: [],
    network: 'none',
    restartPolicy: undefined,
    tty: false,
    error: '',
    stoppedByUser: false,
    namespace: '',
    cri: undefined,
    networks: [],
    ports: [],
    mountPoints: [],
    ...over,
  };
}
