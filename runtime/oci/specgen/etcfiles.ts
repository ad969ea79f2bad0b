/**
 * The three files a container gets bind-mounted over its /etc/hostname,
 * /etc/hosts and /etc/resolv.conf, written into the container's own state
 * directory before the task is created (Docker keeps them beside the
 * container too, so the image's files are never modified).
 *
 * - network `none`: localhost entries plus the container's hostname on
 *   127.0.0.1 (so `hostname -f` and friends resolve), and a resolv.conf
 *   with only a comment: there is nowhere to send queries.
 * - a CNI network (`bridge`, user networks): the contents the network code
 *   made (`hosts`, `resolvConf` below: the container's addresses, the
 *   host's name servers; docs/networking.md).
 * - network `host`: copies of the host's /etc/hosts and /etc/resolv.conf
 *   as they are now (later edits on the host are not followed); the
 *   defaults above when the host has none.
 *
 * Each file is written atomically, so re-writing them for a restart never
 * leaves a running container's bind source half-written. Re-running is
 * idempotent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NetworkMode } from '../../containers/containers';
import type { EtcFilePaths } from './mounts';
import { LOCALHOST_ENTRIES } from '../../network';
import { validateHostname } from '../../options';
import { writeFileAtomic } from '../../util/atomicfile';

export interface EtcFilesOptions {
  readonly hostname: string;
  readonly network: NetworkMode;
  /** Where the host's files are (tests point these elsewhere). */
  readonly hostHostsPath?: string;
  readonly hostResolvConfPath?: string;
  /** The files' contents for a CNI network (runtime/network/dns/). */
  readonly hosts?: string;
  readonly resolvConf?: string;
}

const NO_DNS = '# gantry: this container has no network, so no name servers\n';

async function readHostFile(file: string): Promise<string | null> {
  try {
    return await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Writes `hostname`, `hosts` and `resolv.conf` into `dir` (created if missing) and returns their paths. */
export async function writeEtcFiles(dir: string, opts: EtcFilesOptions): Promise<EtcFilePaths> {
  const hostname = validateHostname(opts.hostname);
  const paths: EtcFilePaths = {
    hostname: path.join(dir, 'hostname'),
    hosts: path.join(dir, 'hosts'),
    resolvConf: path.join(dir, 'resolv.conf'),
  };
  let hosts: string;
  let resolv: string;
  if (opts.hosts !== undefined && opts.resolvConf !== undefined) {
    hosts = opts.hosts;
    resolv = opts.resolvConf;
  } else if (opts.network === 'host') {
    hosts = (await readHostFile(opts.hostHostsPath ?? '/etc/hosts')) ?? `${LOCALHOST_ENTRIES.join('\n')}\n`;
    resolv = (await readHostFile(opts.hostResolvConfPath ?? '/etc/resolv.conf')) ?? NO_DNS;
  } else {
    hosts = `${[...LOCALHOST_ENTRIES, `127.0.0.1\t${hostname}`].join('\n')}\n`;
    resolv = NO_DNS;
  }
  await fs.promises.mkdir(dir, { recursive: true });
  // State-dir files, regenerated at every start: atomic for readers, no fsync needed.
  await writeFileAtomic(paths.hostname, `${hostname}\n`, 0o644, { durable: false });
  await writeFileAtomic(paths.hosts, hosts, 0o644, { durable: false });
  await writeFileAtomic(paths.resolvConf, resolv, 0o644, { durable: false });
  return paths;
}
