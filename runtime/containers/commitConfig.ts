/**
 * A container's config as `commit` records it in the new image, Docker's
 * way: the image's runtime config with what `run` changed merged in — user,
 * env (the container's entries replace the image's of the same name),
 * entrypoint and cmd as the process resolved them, working dir, labels,
 * exposed ports (`--expose` added), stop signal and health check. What only
 * the run has (mounts, limits, networks, restart policy) stays out, as
 * Docker leaves it out. HOSTNAME, HOME and TERM, which the daemon adds at
 * start, are not part of the config.
 */
import type { ContainerConfig as RunConfig } from '../oci/manifest';
import type { Container } from './containers';

const keyOf = (e: string) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e);

export function commitRunConfig(container: Pick<Container, 'config' | 'imageConfig'>): RunConfig {
  const image = container.imageConfig;
  const c = container.config;
  const out: RunConfig = { ...image };
  if (c.user) out.User = c.user;
  const userKeys = new Set(c.env.map(keyOf));
  const env = [...(image.Env ?? []).filter((e) => !userKeys.has(keyOf(e))), ...c.env];
  if (env.length) out.Env = env;
  if (c.entrypoint !== undefined) {
    out.Entrypoint = c.entrypoint.length === 1 && c.entrypoint[0] === '' ? null : [...c.entrypoint];
    out.Cmd = c.cmd?.length ? [...c.cmd] : null;
  } else if (c.cmd?.length) {
    out.Cmd = [...c.cmd];
  }
  if (c.workingDir) out.WorkingDir = c.workingDir;
  if (Object.keys(c.labels).length) out.Labels = { ...(image.Labels ?? {}), ...c.labels };
  if (c.expose?.length) {
    const ports = { ...(image.ExposedPorts ?? {}) };
    for (const e of c.expose) ports[e.includes('/') ? e : `${e}/tcp`] = {};
    out.ExposedPorts = ports;
  }
  if (c.stopSignal) out.StopSignal = c.stopSignal;
  if (c.healthcheck) {
    out.Healthcheck =
      'disabled' in c.healthcheck
        ? { Test: ['NONE'] }
        : {
            Test: [...c.healthcheck.test],
            Interval: c.healthcheck.intervalMs * 1e6,
            Timeout: c.healthcheck.timeoutMs * 1e6,
            StartPeriod: c.healthcheck.startPeriodMs * 1e6,
            Retries: c.healthcheck.retries,
          };
  }
  return out;
}
