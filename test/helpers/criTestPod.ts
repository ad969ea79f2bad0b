// A one-container Kubernetes pod made as a kubelet makes it, through the CRI
// socket (criClient.ts): PullImage, RunPodSandbox, CreateContainer,
// StartContainer; removed again with StopPodSandbox and RemovePodSandbox.
// For the suites that look at pods from the outside (the Containers view's
// grouping, test/vscode and test/ui). The pod uses the host's network
// (namespace mode NODE): what those suites check needs no pod network, and a
// pod bridge of its own would have to be kept apart from other suites'.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NamespaceMode } from '../../runtime/cri/gen/runtime/v1/api';
import type { CriClient } from './criClient';

export interface TestPodSpec {
  /** The pod's Kubernetes namespace and name, and its container's CRI name. */
  readonly namespace: string;
  readonly name: string;
  readonly container: string;
  readonly image: string;
  /** What the container runs, as `sh -c SCRIPT`. */
  readonly script: string;
}

export interface TestPod {
  readonly podSandboxId: string;
  readonly containerId: string;
  /** Stops and removes the pod and its container, and its log directory. */
  remove(): Promise<void>;
}

export async function runTestPod(cri: CriClient, spec: TestPodSpec): Promise<TestPod> {
  const logDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-pod-'));
  const config = {
    metadata: { name: spec.name, namespace: spec.namespace, uid: randomBytes(8).toString('hex'), attempt: 0 },
    hostname: spec.name,
    logDirectory,
    linux: { securityContext: { namespaceOptions: { network: NamespaceMode.NODE } } },
  };
  await cri.images.pullImage({ image: { image: spec.image } });
  const { podSandboxId } = await cri.runtime.runPodSandbox({ config });
  const removePod = async () => {
    await cri.runtime.stopPodSandbox({ podSandboxId });
    await cri.runtime.removePodSandbox({ podSandboxId });
    fs.rmSync(logDirectory, { recursive: true, force: true });
  };
  try {
    const { containerId } = await cri.runtime.createContainer({
      podSandboxId,
      config: {
        metadata: { name: spec.container, attempt: 0 },
        image: { image: spec.image },
        command: ['sh', '-c'],
        args: [spec.script],
        logPath: `${spec.container}.log`,
      },
      sandboxConfig: config,
    });
    await cri.runtime.startContainer({ containerId });
    return { podSandboxId, containerId, remove: removePod };
  } catch (e) {
    await removePod().catch(() => undefined);
    throw e;
  }
}
