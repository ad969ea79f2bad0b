/**
 * What `inspect --format` templates see: each record in the shape of
 * Docker's inspect JSON (docker/api types ContainerJSON, ImageInspect,
 * network.Inspect), so the paths Docker users type — `.State.ExitCode`,
 * `.Name` with its leading "/", `.Config.Env`, `.NetworkSettings.Networks.NAME.IPAddress`,
 * `.RepoTags`, `.RootFS.Layers`, `.IPAM.Config` — give the values Docker
 * gives. Gantry's own inspect JSON (what `inspect` and `inspect --json`
 * print) is unchanged; docs/cli.md ("Output formats") says why.
 *
 * Maps (labels, ports, networks, options) are marked with goMap so a
 * missing key prints `<no value>` and ranges go in key order, as Go's do.
 */
import type { ContainerSummary, InspectContainerResponse, InspectImageResponse, NetworkInfo } from '../client';
import type { ImageRuntimeConfig } from '../api/gen/gantry/v1/images';
import { displayName, displayRepository, healthName, statusName } from '../presentation';
import { goMap } from '../presentation/template';

/**
 * Go's `omitempty` pointer fields: there for a template (`{{.State.Health}}`
 * prints `<nil>`) but left out of JSON, as Docker's encoder leaves them out.
 */
function withOmitted<T extends object>(record: T, fields: Record<string, unknown>): T {
  for (const [key, value] of Object.entries(fields)) {
    if (value === null || value === undefined) Object.defineProperty(record, key, { value: null, enumerable: false });
    else Object.defineProperty(record, key, { value, enumerable: true });
  }
  return record;
}

const iso = (d: Date | undefined) => (d ? d.toISOString() : '0001-01-01T00:00:00Z');
const orNull = <T>(list: readonly T[] | undefined): T[] | null => (list && list.length ? [...list] : null);

/** Docker's ReplaceOrAppendEnvValues: the image's variables, each replaced by the container's of the same name, then the container's others. */
export function mergeEnv(image: readonly string[], container: readonly string[]): string[] {
  const key = (e: string) => e.split('=', 1)[0];
  const own = new Map(container.map((e) => [key(e), e]));
  const merged = image.map((e) => own.get(key(e)) ?? e);
  const seen = new Set(image.map(key));
  for (const e of container) if (!seen.has(key(e))) merged.push(e);
  return merged;
}

function portKey(port: string): string {
  return port.includes('/') ? port : `${port}/tcp`;
}

/** `-p` values name their container port last ("8080:80/udp" → "80/udp"). */
function publishedPortKey(spec: string): string {
  const [port, proto = 'tcp'] = spec.split('/');
  const container = port.split(':').pop() ?? port;
  return `${container}/${proto}`;
}

export function dockerContainer(details: InspectContainerResponse, image: ImageRuntimeConfig | undefined): Record<string, unknown> {
  const c = details.container as ContainerSummary;
  const config = details.config;
  const spec = details.specJson ? (JSON.parse(details.specJson) as { process?: { env?: string[] } }) : undefined;
  // `--entrypoint ""` reaches the daemon as [""]: no entrypoint.
  const userEntrypoint = config?.entrypointSet ? config.entrypoint.filter((e, _i, all) => !(all.length === 1 && e === '')) : undefined;
  const entrypoint = userEntrypoint ?? image?.entrypoint ?? [];
  const cmd = config?.entrypointSet ? (config.cmd ?? []) : config?.cmd.length ? config.cmd : (image?.cmd ?? []);
  const args = c.command.length ? c.command : [...entrypoint, ...cmd];
  const env = image ? mergeEnv(image.env, config?.env ?? []) : (spec?.process?.env ?? config?.env ?? []);
  const state = statusName(c.status);
  const exposed = new Set([
    ...[...(image?.exposedPorts ?? []), ...(config?.expose ?? [])].map(portKey),
    ...(config?.publish ?? []).map(publishedPortKey),
  ]);
  for (const p of c.ports) exposed.add(`${p.containerPort}/${p.protocol}`);
  const portsMap: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const port of exposed) portsMap[port] = null;
  for (const p of c.ports) {
    const key = `${p.containerPort}/${p.protocol}`;
    (portsMap[key] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
  }
  const bindingsMap: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of c.ports)
    (bindingsMap[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  const networks: Record<string, unknown> = {};
  for (const n of c.networks) {
    networks[n.network] = {
      IPAMConfig: null,
      Links: null,
      Aliases: orNull(n.aliases),
      MacAddress: n.macAddress,
      NetworkID: n.networkId,
      EndpointID: '',
      Gateway: n.gateway,
      IPAddress: n.ipAddress,
      IPPrefixLen: n.ipPrefixLen,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      DriverOpts: null,
      DNSNames: orNull([c.name.replace(/^\//, ''), ...n.aliases]),
    };
  }
  const bridge = c.networks.find((n) => n.network === 'bridge');
  const health = details.health && healthName(details.health.status) !== 'none' ? details.health : undefined;
  return {
    Id: c.id,
    Created: iso(c.createdAt),
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: withOmitted(
      {
        Status: state,
        Running: state === 'running' || state === 'paused',
        Paused: state === 'paused',
        Restarting: state === 'restarting',
        OOMKilled: c.oomKilled,
        Dead: state === 'dead',
        Pid: c.pid,
        ExitCode: c.exitCode,
        Error: c.error,
        StartedAt: iso(c.startedAt),
        FinishedAt: iso(c.finishedAt),
      },
      {
        Health: health && {
          Status: healthName(health.status),
          FailingStreak: health.failingStreak,
          Log: health.log.map((l) => ({ Start: iso(l.start), End: iso(l.end), ExitCode: l.exitCode, Output: l.output })),
        },
      },
    ),
    Image: c.imageId,
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: details.logPath,
    Name: c.name.startsWith('/') ? c.name : `/${c.name}`,
    RestartCount: c.restartCount,
    Driver: details.snapshotter,
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: details.apparmorProfile,
    ExecIDs: null,
    HostConfig: {
      Binds: orNull((config?.mounts ?? []).map((m) => `${m.source}:${m.destination}${m.readOnly ? ':ro' : ''}`)),
      LogConfig: { Type: 'json-file', Config: goMap({}) },
      NetworkMode: config?.network || 'bridge',
      PortBindings: goMap(bindingsMap),
      RestartPolicy: { Name: config?.restartPolicy?.name || 'no', MaximumRetryCount: config?.restartPolicy?.maximumRetryCount ?? 0 },
      AutoRemove: config?.autoRemove ?? false,
      CapAdd: orNull(config?.capAdd),
      CapDrop: orNull(config?.capDrop),
      CgroupnsMode: details.cgroupnsMode,
      Dns: config?.dns ?? [],
      DnsOptions: config?.dnsOptions ?? [],
      DnsSearch: config?.dnsSearch ?? [],
      ExtraHosts: orNull(config?.addHosts),
      Privileged: config?.privileged ?? false,
      PublishAllPorts: config?.publishAll ?? false,
      ReadonlyRootfs: config?.readOnlyRootfs ?? false,
      SecurityOpt: orNull([
        ...(config?.seccompProfile ? [`seccomp=${config.seccompProfile}`] : []),
        ...(config?.apparmorProfile ? [`apparmor=${config.apparmorProfile}`] : []),
        ...(config?.noNewPrivileges ? ['no-new-privileges'] : []),
      ]),
      Tmpfs: (config?.tmpfs ?? []).length
        ? goMap(Object.fromEntries(config!.tmpfs.map((t) => [t.destination, t.options.join(',')])))
        : null,
      Memory: Number(config?.memoryBytes ?? 0),
      NanoCpus: Number(config?.nanoCpus ?? 0),
      PidsLimit: config?.pidsLimit ? Number(config.pidsLimit) : null,
      Devices: (config?.devices ?? []).map((d) => ({
        PathOnHost: d.pathOnHost,
        PathInContainer: d.pathInContainer,
        CgroupPermissions: d.cgroupPermissions,
      })),
    },
    GraphDriver: { Name: details.snapshotter, Data: goMap({}) },
    Mounts: (config?.mounts ?? []).map((m) => ({
      Type: 'bind',
      Source: m.source,
      Destination: m.destination,
      Mode: m.readOnly ? 'ro' : '',
      RW: !m.readOnly,
      Propagation: 'rprivate',
    })),
    Config: withOmitted(
      {
        Hostname: details.hostname,
        Domainname: '',
        User: config?.user || image?.user || '',
        AttachStdin: false,
        AttachStdout: false,
        AttachStderr: false,
        ExposedPorts: exposed.size ? goMap(Object.fromEntries([...exposed].map((p) => [p, {}]))) : null,
        Tty: config?.tty ?? false,
        OpenStdin: config?.openStdin ?? false,
        StdinOnce: false,
        Env: orNull(env),
        Cmd: orNull(cmd),
        Image: config?.image ?? c.image,
        Volumes: null,
        WorkingDir: config?.workingDir || image?.workingDir || '',
        Entrypoint: orNull(entrypoint),
        OnBuild: null,
        Labels: goMap({ ...(image?.labels ?? {}), ...(config?.labels ?? c.labels) }),
        ...(config?.stopSignal || image?.stopSignal ? { StopSignal: config?.stopSignal || image?.stopSignal } : {}),
        ...(config?.stopTimeoutSet ? { StopTimeout: config.stopTimeout } : {}),
      },
      {
        Healthcheck: config?.healthcheck?.test.length
          ? {
              Test: config.healthcheck.test,
              Interval: Number(config.healthcheck.intervalMs) * 1e6,
              Timeout: Number(config.healthcheck.timeoutMs) * 1e6,
              StartPeriod: Number(config.healthcheck.startPeriodMs) * 1e6,
              Retries: config.healthcheck.retries,
            }
          : null,
      },
    ),
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      SandboxKey: details.sandboxKey,
      Ports: goMap(state === 'running' || state === 'paused' ? portsMap : {}),
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: '',
      Gateway: bridge?.gateway ?? '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: bridge?.ipAddress ?? '',
      IPPrefixLen: bridge?.ipPrefixLen ?? 0,
      IPv6Gateway: '',
      MacAddress: bridge?.macAddress ?? '',
      Networks: goMap(networks),
    },
  };
}

/** The image's config as Docker's image inspect shows it (the OCI config's `config`, with Docker's defaults for missing keys). */
export function dockerImage(details: InspectImageResponse): Record<string, unknown> {
  const raw = JSON.parse(details.configJson || '{}') as {
    created?: string;
    author?: string;
    architecture?: string;
    os?: string;
    variant?: string;
    config?: Record<string, unknown>;
    rootfs?: { type?: string; diff_ids?: string[] };
    comment?: string;
  };
  const image = details.image!;
  const rc = raw.config ?? {};
  const names = details.names.length ? details.names : image.name ? [image.name] : [];
  const tags = names.filter((n) => !n.includes('@')).map(displayName);
  const digest = image.target?.digest;
  const repoDigests = digest
    ? [...new Set(names.map((n) => displayRepository(n.replace(/[:@][^/]*$/, ''))))].map((r) => `${r}@${digest}`)
    : [];
  const asMap = (v: unknown) => (v && typeof v === 'object' ? goMap({ ...v }) : null);
  return {
    Id: image.id,
    RepoTags: tags,
    RepoDigests: repoDigests,
    Parent: '',
    Comment: raw.comment ?? '',
    Created: raw.created ?? image.created ?? '',
    DockerVersion: '',
    Author: raw.author ?? details.author ?? '',
    Config: withOmitted(
      {
        Hostname: '',
        Domainname: '',
        User: (rc.User as string) ?? '',
        AttachStdin: false,
        AttachStdout: false,
        AttachStderr: false,
        ExposedPorts: asMap(rc.ExposedPorts),
        Tty: false,
        OpenStdin: false,
        StdinOnce: false,
        Env: (rc.Env as string[]) ?? null,
        Cmd: (rc.Cmd as string[]) ?? null,
        Image: '',
        Volumes: asMap(rc.Volumes),
        WorkingDir: (rc.WorkingDir as string) ?? '',
        Entrypoint: (rc.Entrypoint as string[]) ?? null,
        OnBuild: (rc.OnBuild as string[]) ?? null,
        Labels: asMap(rc.Labels),
        ...(rc.StopSignal ? { StopSignal: rc.StopSignal } : {}),
      },
      { Healthcheck: rc.Healthcheck },
    ),
    Architecture: raw.architecture ?? image.platform?.architecture ?? '',
    ...(raw.variant || image.platform?.variant ? { Variant: raw.variant ?? image.platform?.variant } : {}),
    Os: raw.os ?? image.platform?.os ?? '',
    Size: Number(image.size),
    GraphDriver: { Name: image.snapshotter, Data: goMap({}) },
    RootFS: { Type: raw.rootfs?.type ?? 'layers', Layers: raw.rootfs?.diff_ids ?? details.diffIds },
    Metadata: { LastTagTime: image.recordedAt ? image.recordedAt.toISOString() : '0001-01-01T00:00:00Z' },
  };
}

/** `docker network inspect`'s shape; `containers` gives each attached container's endpoint on this network. */
export function dockerNetwork(n: NetworkInfo, containers: readonly ContainerSummary[]): Record<string, unknown> {
  const attached: Record<string, unknown> = {};
  for (const c of containers) {
    const ep = c.networks.find((e) => e.network === n.name);
    if (!ep) continue;
    attached[c.id] = {
      Name: c.name.replace(/^\//, ''),
      EndpointID: '',
      MacAddress: ep.macAddress,
      IPv4Address: ep.ipAddress ? `${ep.ipAddress}/${ep.ipPrefixLen}` : '',
      IPv6Address: '',
    };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: iso(n.createdAt),
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: {
      Driver: 'default',
      Options: null,
      Config: n.subnet ? [{ Subnet: n.subnet, ...(n.gateway ? { Gateway: n.gateway } : {}) }] : [],
    },
    Internal: n.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: goMap(attached),
    Options: goMap({ ...n.options }),
    Labels: goMap({ ...n.labels }),
  };
}
