/**
 * The CRI wire contract against a table written by hand from Kubernetes'
 * k8s.io/cri-api v0.32 api.proto (the release runtime/cri/proto/runtime/v1/api.proto
 * says it matches). Each row sets one field through the generated code,
 * encodes the message and reads the field number and wire type back from
 * the bytes, so a renumbered, retyped or renamed field in our .proto (or a
 * generator change) fails here rather than in a kubelet.
 */
import * as assert from 'node:assert/strict';
import * as cri from '../../../runtime/cri/gen/runtime/v1/api';

/** protobuf wire types */
const VARINT = 0;
const LEN = 2;

interface Codec {
  fromJSON(object: Record<string, unknown>): unknown;
  encode(message: unknown): { finish(): Uint8Array };
}

function readVarint(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, at];
    shift += 7;
  }
}

/** The (field number, wire type) of every top-level field in an encoded message. */
function topLevelTags(bytes: Uint8Array): Array<[number, number]> {
  const tags: Array<[number, number]> = [];
  let at = 0;
  while (at < bytes.length) {
    let key: number;
    [key, at] = readVarint(bytes, at);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    tags.push([field, wire]);
    if (wire === VARINT) [, at] = readVarint(bytes, at);
    else if (wire === LEN) {
      let len: number;
      [len, at] = readVarint(bytes, at);
      at += len;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new Error(`unexpected wire type ${wire}`);
  }
  return tags;
}

type Sample = 'string' | 'bool' | 'int' | 'enum' | 'message' | 'repeated string' | 'repeated message' | 'repeated int' | 'map';

function sample(kind: Sample): unknown {
  switch (kind) {
    case 'string':
      return 'x';
    case 'bool':
      return true;
    case 'int':
    case 'enum':
      return 1;
    case 'message':
      return {};
    case 'repeated string':
      return ['x'];
    case 'repeated message':
      return [{}];
    case 'repeated int':
      return [7];
    case 'map':
      return { k: 'v' };
  }
}

const wireOf = (kind: Sample): number => (kind === 'bool' || kind === 'int' || kind === 'enum' ? VARINT : LEN);

/** [upstream field name, generated property, upstream number, kind] per message, from cri-api v0.32. */
const FIELDS: Record<string, Array<[string, string, number, Sample]>> = {
  PodSandboxConfig: [
    ['metadata', 'metadata', 1, 'message'],
    ['hostname', 'hostname', 2, 'string'],
    ['log_directory', 'logDirectory', 3, 'string'],
    ['dns_config', 'dnsConfig', 4, 'message'],
    ['port_mappings', 'portMappings', 5, 'repeated message'],
    ['labels', 'labels', 6, 'map'],
    ['annotations', 'annotations', 7, 'map'],
    ['linux', 'linux', 8, 'message'],
    ['windows', 'windows', 9, 'message'],
  ],
  PodSandboxMetadata: [
    ['name', 'name', 1, 'string'],
    ['uid', 'uid', 2, 'string'],
    ['namespace', 'namespace', 3, 'string'],
    ['attempt', 'attempt', 4, 'int'],
  ],
  LinuxSandboxSecurityContext: [
    ['namespace_options', 'namespaceOptions', 1, 'message'],
    ['run_as_user', 'runAsUser', 3, 'message'],
    ['privileged', 'privileged', 6, 'bool'],
    ['run_as_group', 'runAsGroup', 8, 'message'],
    ['seccomp', 'seccomp', 9, 'message'],
    ['apparmor', 'apparmor', 10, 'message'],
    ['supplemental_groups_policy', 'supplementalGroupsPolicy', 11, 'enum'],
  ],
  ContainerConfig: [
    ['metadata', 'metadata', 1, 'message'],
    ['image', 'image', 2, 'message'],
    ['command', 'command', 3, 'repeated string'],
    ['args', 'args', 4, 'repeated string'],
    ['working_dir', 'workingDir', 5, 'string'],
    ['envs', 'envs', 6, 'repeated message'],
    ['mounts', 'mounts', 7, 'repeated message'],
    ['devices', 'devices', 8, 'repeated message'],
    ['labels', 'labels', 9, 'map'],
    ['annotations', 'annotations', 10, 'map'],
    ['log_path', 'logPath', 11, 'string'],
    ['stdin', 'stdin', 12, 'bool'],
    ['stdin_once', 'stdinOnce', 13, 'bool'],
    ['tty', 'tty', 14, 'bool'],
    ['linux', 'linux', 15, 'message'],
    ['windows', 'windows', 16, 'message'],
    ['CDI_devices', 'CDIDevices', 17, 'repeated message'],
  ],
  LinuxContainerSecurityContext: [
    ['capabilities', 'capabilities', 1, 'message'],
    ['privileged', 'privileged', 2, 'bool'],
    ['namespace_options', 'namespaceOptions', 3, 'message'],
    ['selinux_options', 'selinuxOptions', 4, 'message'],
    ['run_as_user', 'runAsUser', 5, 'message'],
    ['run_as_username', 'runAsUsername', 6, 'string'],
    ['readonly_rootfs', 'readonlyRootfs', 7, 'bool'],
    ['supplemental_groups', 'supplementalGroups', 8, 'repeated int'],
    ['apparmor_profile', 'apparmorProfile', 9, 'string'],
    ['seccomp_profile_path', 'seccompProfilePath', 10, 'string'],
    ['no_new_privs', 'noNewPrivs', 11, 'bool'],
    ['run_as_group', 'runAsGroup', 12, 'message'],
    ['masked_paths', 'maskedPaths', 13, 'repeated string'],
    ['readonly_paths', 'readonlyPaths', 14, 'repeated string'],
    ['seccomp', 'seccomp', 15, 'message'],
    ['apparmor', 'apparmor', 16, 'message'],
    ['supplemental_groups_policy', 'supplementalGroupsPolicy', 17, 'enum'],
  ],
  LinuxContainerResources: [
    ['cpu_period', 'cpuPeriod', 1, 'int'],
    ['cpu_quota', 'cpuQuota', 2, 'int'],
    ['cpu_shares', 'cpuShares', 3, 'int'],
    ['memory_limit_in_bytes', 'memoryLimitInBytes', 4, 'int'],
    ['oom_score_adj', 'oomScoreAdj', 5, 'int'],
    ['cpuset_cpus', 'cpusetCpus', 6, 'string'],
    ['cpuset_mems', 'cpusetMems', 7, 'string'],
    ['hugepage_limits', 'hugepageLimits', 8, 'repeated message'],
    ['unified', 'unified', 9, 'map'],
    ['memory_swap_limit_in_bytes', 'memorySwapLimitInBytes', 10, 'int'],
  ],
  Mount: [
    ['container_path', 'containerPath', 1, 'string'],
    ['host_path', 'hostPath', 2, 'string'],
    ['readonly', 'readonly', 3, 'bool'],
    ['propagation', 'propagation', 5, 'enum'],
    ['uidMappings', 'uidMappings', 6, 'repeated message'],
    ['recursive_read_only', 'recursiveReadOnly', 8, 'bool'],
    ['image', 'image', 9, 'message'],
  ],
  ContainerStatus: [
    ['exit_code', 'exitCode', 7, 'int'],
    ['image_ref', 'imageRef', 9, 'string'],
    ['reason', 'reason', 10, 'string'],
    ['log_path', 'logPath', 15, 'string'],
    ['image_id', 'imageId', 17, 'string'],
    ['user', 'user', 18, 'message'],
  ],
  ImageSpec: [
    ['image', 'image', 1, 'string'],
    ['annotations', 'annotations', 2, 'map'],
    ['user_specified_image', 'userSpecifiedImage', 18, 'string'],
    ['runtime_handler', 'runtimeHandler', 19, 'string'],
  ],
  PullImageRequest: [
    ['image', 'image', 1, 'message'],
    ['auth', 'auth', 2, 'message'],
    ['sandbox_config', 'sandboxConfig', 3, 'message'],
  ],
  AuthConfig: [
    ['username', 'username', 1, 'string'],
    ['password', 'password', 2, 'string'],
    ['auth', 'auth', 3, 'string'],
    ['server_address', 'serverAddress', 4, 'string'],
    ['identity_token', 'identityToken', 5, 'string'],
    ['registry_token', 'registryToken', 6, 'string'],
  ],
  Image: [
    ['id', 'id', 1, 'string'],
    ['repo_tags', 'repoTags', 2, 'repeated string'],
    ['repo_digests', 'repoDigests', 3, 'repeated string'],
    ['size', 'size', 4, 'int'],
    ['uid', 'uid', 5, 'message'],
    ['username', 'username', 6, 'string'],
    ['spec', 'spec', 7, 'message'],
    ['pinned', 'pinned', 8, 'bool'],
  ],
  ImageStatusResponse: [
    ['image', 'image', 1, 'message'],
    ['info', 'info', 2, 'map'],
  ],
  ImageFsInfoResponse: [
    ['image_filesystems', 'imageFilesystems', 1, 'repeated message'],
    ['container_filesystems', 'containerFilesystems', 2, 'repeated message'],
  ],
  FilesystemUsage: [
    ['timestamp', 'timestamp', 1, 'int'],
    ['fs_id', 'fsId', 2, 'message'],
    ['used_bytes', 'usedBytes', 3, 'message'],
    ['inodes_used', 'inodesUsed', 4, 'message'],
  ],
  VersionResponse: [
    ['version', 'version', 1, 'string'],
    ['runtime_name', 'runtimeName', 2, 'string'],
    ['runtime_version', 'runtimeVersion', 3, 'string'],
    ['runtime_api_version', 'runtimeApiVersion', 4, 'string'],
  ],
  StatusResponse: [
    ['status', 'status', 1, 'message'],
    ['info', 'info', 2, 'map'],
    ['runtime_handlers', 'runtimeHandlers', 3, 'repeated message'],
    ['features', 'features', 4, 'message'],
  ],
  RuntimeCondition: [
    ['type', 'type', 1, 'string'],
    ['status', 'status', 2, 'bool'],
    ['reason', 'reason', 3, 'string'],
    ['message', 'message', 4, 'string'],
  ],
  LinuxRuntimeConfiguration: [['cgroup_driver', 'cgroupDriver', 1, 'enum']],
};

/** Every RPC of both services in cri-api v0.32, in upstream order. */
const RUNTIME_RPCS = [
  'Version',
  'RunPodSandbox',
  'StopPodSandbox',
  'RemovePodSandbox',
  'PodSandboxStatus',
  'ListPodSandbox',
  'CreateContainer',
  'StartContainer',
  'StopContainer',
  'RemoveContainer',
  'ListContainers',
  'ContainerStatus',
  'UpdateContainerResources',
  'ReopenContainerLog',
  'ExecSync',
  'Exec',
  'Attach',
  'PortForward',
  'ContainerStats',
  'ListContainerStats',
  'PodSandboxStats',
  'ListPodSandboxStats',
  'UpdateRuntimeConfig',
  'Status',
  'CheckpointContainer',
  'GetContainerEvents',
  'ListMetricDescriptors',
  'ListPodSandboxMetrics',
  'RuntimeConfig',
];
const IMAGE_RPCS = ['ListImages', 'ImageStatus', 'PullImage', 'RemoveImage', 'ImageFsInfo'];

function rpcPaths(service: Record<string, { path: string; responseStream: boolean }>): string[] {
  return Object.values(service).map((m) => m.path);
}

describe('cri/wire (runtime.v1 against cri-api v0.32)', () => {
  for (const [message, rows] of Object.entries(FIELDS)) {
    it(`${message}: field numbers and wire types`, () => {
      const codec = (cri as unknown as Record<string, Codec>)[message];
      assert.ok(codec, `runtime.v1.${message} is generated`);
      for (const [name, prop, number, kind] of rows) {
        const bytes = codec.encode(codec.fromJSON({ [prop]: sample(kind) })).finish();
        assert.deepEqual(topLevelTags(bytes), [[number, wireOf(kind)]], `${message}.${name} is field ${number}`);
      }
    });
  }

  it('RuntimeService has exactly the 1.32 RPCs under /runtime.v1.RuntimeService/', () => {
    assert.deepEqual(
      rpcPaths(cri.RuntimeServiceService),
      RUNTIME_RPCS.map((m) => `/runtime.v1.RuntimeService/${m}`),
    );
    assert.equal(cri.RuntimeServiceService.getContainerEvents.responseStream, true);
  });

  it('ImageService has exactly the 1.32 RPCs under /runtime.v1.ImageService/', () => {
    assert.deepEqual(
      rpcPaths(cri.ImageServiceService),
      IMAGE_RPCS.map((m) => `/runtime.v1.ImageService/${m}`),
    );
  });

  it('enum values match', () => {
    assert.deepEqual([cri.NamespaceMode.POD, cri.NamespaceMode.CONTAINER, cri.NamespaceMode.NODE, cri.NamespaceMode.TARGET], [0, 1, 2, 3]);
    assert.deepEqual([cri.CgroupDriver.SYSTEMD, cri.CgroupDriver.CGROUPFS], [0, 1]);
    assert.deepEqual(
      [
        cri.MountPropagation.PROPAGATION_PRIVATE,
        cri.MountPropagation.PROPAGATION_HOST_TO_CONTAINER,
        cri.MountPropagation.PROPAGATION_BIDIRECTIONAL,
      ],
      [0, 1, 2],
    );
    assert.deepEqual(
      [
        cri.ContainerState.CONTAINER_CREATED,
        cri.ContainerState.CONTAINER_RUNNING,
        cri.ContainerState.CONTAINER_EXITED,
        cri.ContainerState.CONTAINER_UNKNOWN,
      ],
      [0, 1, 2, 3],
    );
    assert.deepEqual([cri.PodSandboxState.SANDBOX_READY, cri.PodSandboxState.SANDBOX_NOTREADY], [0, 1]);
    assert.deepEqual([cri.SupplementalGroupsPolicy.Merge, cri.SupplementalGroupsPolicy.Strict], [0, 1]);
    assert.deepEqual(
      [
        cri.SecurityProfile_ProfileType.RuntimeDefault,
        cri.SecurityProfile_ProfileType.Unconfined,
        cri.SecurityProfile_ProfileType.Localhost,
      ],
      [0, 1, 2],
    );
    assert.deepEqual([cri.Protocol.TCP, cri.Protocol.UDP, cri.Protocol.SCTP], [0, 1, 2]);
  });
});
