/**
 * Where network configurations live. gantryd's own networks are two files
 * each under `<root>/networks/`: `<name>.conflist` (exactly what the plugins
 * get) and `<name>.network.json` (the metadata `network ls/inspect` show; written
 * last, so it marks a complete network). User-provided conflists (or
 * single-plugin .conf files) in `--cni-conf-dir` are listed read-only: they
 * can be used, not changed or removed. A name gantryd owns hides a
 * user-provided list of the same name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { notFound } from '../errdefs/errdefs';
import { writeFileAtomic } from '../util/atomicfile';
import { readdirOrEmpty } from '../util/files';
import { parseConflist, type Conflist } from './cni/conflist';
import { conflistSubnets } from './configs';

/** What `network ls/inspect` show about a network. */
export interface NetworkInfo {
  readonly id: string;
  readonly name: string;
  /** The first plugin's type: "bridge" for gantryd's networks. */
  readonly driver: string;
  /** The Linux bridge ('' for user-provided lists of another kind). */
  readonly bridge: string;
  readonly subnet: string;
  readonly gateway: string;
  readonly internal: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly options: Readonly<Record<string, string>>;
  /** ISO 8601. */
  readonly created: string;
  /** The default network `bridge`. */
  readonly builtin: boolean;
  /** From --cni-conf-dir: usable, not removable. */
  readonly readOnly: boolean;
  /** The conflist file. */
  readonly source: string;
}

export interface StoredNetwork {
  readonly info: NetworkInfo;
  readonly conflist: Conflist;
}

const META = '.network.json';

export class NetworkStore {
  constructor(
    readonly dir: string,
    readonly confDir?: string,
    /** `--cri-cni-conf-dir`: the CRI pods' conflists, read-only as confDir's. */
    readonly criConfDir?: string,
  ) {}

  async init(): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  conflistPath(name: string): string {
    return path.join(this.dir, `${name}.conflist`);
  }

  /** Every network: gantryd's first, then user-provided ones whose names are free. Unreadable user files are skipped. */
  async list(onSkip?: (file: string, why: string) => void): Promise<StoredNetwork[]> {
    const out: StoredNetwork[] = [];
    for (const entry of (await readdirOrEmpty(this.dir)).sort()) {
      if (!entry.endsWith(META)) continue;
      const info = JSON.parse(await fs.promises.readFile(path.join(this.dir, entry), 'utf8')) as NetworkInfo;
      const conflist = parseConflist(await fs.promises.readFile(this.conflistPath(info.name), 'utf8'), this.conflistPath(info.name));
      out.push({ info, conflist });
    }
    for (const dir of [this.confDir, this.criConfDir]) if (dir) await this.listUserDir(dir, out, onSkip);
    return out;
  }

  private async listUserDir(dir: string, out: StoredNetwork[], onSkip?: (file: string, why: string) => void): Promise<void> {
    for (const entry of (await readdirOrEmpty(dir)).sort()) {
      if (!/\.(conflist|conf|json)$/.test(entry)) continue;
      const file = path.join(dir, entry);
      try {
        const conflist = parseConflist(await fs.promises.readFile(file, 'utf8'), file);
        if (out.some((n) => n.info.name === conflist.name)) {
          onSkip?.(file, `the name ${conflist.name} is taken`);
          continue;
        }
        out.push({ info: userInfo(conflist, file, (await fs.promises.stat(file)).mtime), conflist });
      } catch (e) {
        onSkip?.(file, (e as Error).message);
      }
    }
  }

  async get(name: string): Promise<StoredNetwork> {
    const found = (await this.list()).find((n) => n.info.name === name || n.info.id === name);
    if (!found) throw notFound(`network ${name} not found`);
    return found;
  }

  async save(info: NetworkInfo, conflist: Conflist): Promise<void> {
    await writeFileAtomic(this.conflistPath(info.name), JSON.stringify(conflist, null, 2) + '\n', 0o644);
    await writeFileAtomic(path.join(this.dir, `${info.name}${META}`), JSON.stringify(info, null, 2) + '\n', 0o644);
  }

  async remove(name: string): Promise<void> {
    await fs.promises.rm(path.join(this.dir, `${name}${META}`), { force: true });
    await fs.promises.rm(this.conflistPath(name), { force: true });
  }
}

function userInfo(conflist: Conflist, file: string, mtime: Date): NetworkInfo {
  const first = conflist.plugins[0];
  const subnet = conflistSubnets(conflist)[0] ?? '';
  return {
    id: `cni:${conflist.name}`,
    name: conflist.name,
    driver: first.type,
    bridge: typeof first.bridge === 'string' ? first.bridge : '',
    subnet,
    gateway: '',
    internal: false,
    labels: {},
    options: {},
    created: mtime.toISOString(),
    builtin: false,
    readOnly: true,
    source: file,
  };
}
