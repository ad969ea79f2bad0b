/**
 * The RuntimeService handlers of pod sandboxes (sandboxes.ts) and their
 * containers (podContainers.ts). Without containers or CNI networks on this
 * daemon each fails with FAILED_PRECONDITION and the reason.
 */
import type { HandlerAdapter } from '../api/server';
import { failedPrecondition } from '../errdefs/errdefs';
import type { CriDeps } from './cri';
import type { RuntimeServiceServer } from './gen/runtime/v1/api';
import { CriContainers } from './podContainers';
import { CriSandboxes } from './sandboxes';
import { CriStats } from './stats';
import { CriEvents } from './events';
import { CriStreams } from './streams';

type PodHandlers = Pick<
  RuntimeServiceServer,
  | 'runPodSandbox'
  | 'stopPodSandbox'
  | 'removePodSandbox'
  | 'podSandboxStatus'
  | 'listPodSandbox'
  | 'createContainer'
  | 'startContainer'
  | 'stopContainer'
  | 'removeContainer'
  | 'listContainers'
  | 'containerStatus'
  | 'execSync'
  | 'reopenContainerLog'
  | 'updateRuntimeConfig'
  | 'containerStats'
  | 'listContainerStats'
  | 'podSandboxStats'
  | 'listPodSandboxStats'
  | 'updateContainerResources'
  | 'getContainerEvents'
  | 'exec'
  | 'attach'
  | 'portForward'
>;

export function podHandlers(adapt: HandlerAdapter, deps: CriDeps): PodHandlers {
  const pods = deps.pods;
  const sandboxes = pods ? new CriSandboxes(pods) : undefined;
  const containers = pods && sandboxes ? new CriContainers(pods, sandboxes) : undefined;
  const stats = pods && sandboxes && containers ? new CriStats(pods, containers, sandboxes) : undefined;
  const events = pods && sandboxes && containers ? new CriEvents(pods.events, pods.service, containers, sandboxes) : undefined;
  const streams = sandboxes && containers && deps.streams ? new CriStreams(containers, sandboxes, deps.streams) : undefined;
  const need = <T>(x: T | undefined): T => {
    if (!x)
      throw failedPrecondition(
        `pods are unavailable on this daemon: ${deps.podsUnavailable ?? 'containers or CNI networks are unavailable'}`,
      );
    return x;
  };
  const needStreams = (x: CriStreams | undefined): CriStreams => {
    if (!x && !deps.streams && pods) throw failedPrecondition('the CRI streaming server is not running on this daemon');
    return need(x);
  };
  return {
    runPodSandbox: adapt.unary('cri.RunPodSandbox', async (ctx, r) => ({
      podSandboxId: await need(sandboxes).run(ctx, r.config, r.runtimeHandler),
    })),
    stopPodSandbox: adapt.unary('cri.StopPodSandbox', async (ctx, r) => {
      await need(sandboxes).stop(ctx, r.podSandboxId);
      return {};
    }),
    removePodSandbox: adapt.unary('cri.RemovePodSandbox', async (ctx, r) => {
      await need(sandboxes).remove(ctx, r.podSandboxId);
      return {};
    }),
    podSandboxStatus: adapt.unary('cri.PodSandboxStatus', async (ctx, r) => need(sandboxes).status(ctx, r.podSandboxId, r.verbose)),
    listPodSandbox: adapt.unary('cri.ListPodSandbox', async (_ctx, r) => ({ items: need(sandboxes).list(r.filter) })),
    createContainer: adapt.unary('cri.CreateContainer', async (ctx, r) => ({
      containerId: await need(containers).create(ctx, r.podSandboxId, r.config, r.sandboxConfig),
    })),
    startContainer: adapt.unary('cri.StartContainer', async (ctx, r) => {
      await need(containers).start(ctx, r.containerId);
      return {};
    }),
    stopContainer: adapt.unary('cri.StopContainer', async (ctx, r) => {
      await need(containers).stop(ctx, r.containerId, Number(r.timeout));
      return {};
    }),
    removeContainer: adapt.unary('cri.RemoveContainer', async (ctx, r) => {
      await need(containers).remove(ctx, r.containerId);
      return {};
    }),
    listContainers: adapt.unary('cri.ListContainers', async (_ctx, r) => ({ containers: need(containers).list(r.filter) })),
    containerStatus: adapt.unary('cri.ContainerStatus', async (_ctx, r) => need(containers).status(r.containerId, r.verbose)),
    exec: adapt.unary('cri.Exec', async (_ctx, r) => needStreams(streams).exec(r)),
    attach: adapt.unary('cri.Attach', async (_ctx, r) => needStreams(streams).attach(r)),
    portForward: adapt.unary('cri.PortForward', async (_ctx, r) => needStreams(streams).portForward(r)),
    execSync: adapt.unary('cri.ExecSync', async (ctx, r) => need(containers).execSync(ctx, r.containerId, r.cmd, Number(r.timeout))),
    reopenContainerLog: adapt.unary('cri.ReopenContainerLog', async (_ctx, r) => {
      need(containers).reopenLog(r.containerId);
      return {};
    }),
    containerStats: adapt.unary('cri.ContainerStats', async (ctx, r) => ({ stats: await need(stats).container(ctx, r.containerId) })),
    listContainerStats: adapt.unary('cri.ListContainerStats', async (ctx, r) => ({
      stats: await need(stats).listContainers(ctx, r.filter),
    })),
    podSandboxStats: adapt.unary('cri.PodSandboxStats', async (ctx, r) => ({ stats: await need(stats).sandbox(ctx, r.podSandboxId) })),
    listPodSandboxStats: adapt.unary('cri.ListPodSandboxStats', async (ctx, r) => ({
      stats: await need(stats).listSandboxes(ctx, r.filter),
    })),
    updateContainerResources: adapt.unary('cri.UpdateContainerResources', async (ctx, r) => {
      await need(containers).updateResources(ctx, r.containerId, r.linux);
      return {};
    }),
    getContainerEvents: adapt.serverStream('cri.GetContainerEvents', (ctx, _r, send) => need(events).follow(ctx, send)),
    // As containerd without a CNI conf template: the kubelet's pod CIDR is noted, pods keep the pod network's own subnet.
    updateRuntimeConfig: adapt.unary('cri.UpdateRuntimeConfig', async (_ctx, r) => {
      const podCidr = r.runtimeConfig?.networkConfig?.podCidr ?? '';
      if (podCidr)
        deps.log.info("CRI: the kubelet's pod CIDR is not applied; pods use the pod network's subnet (docs/cri.md)", { podCidr });
      return {};
    }),
  };
}
