/**
 * What gantryd attached for each container, in
 * `<root>/networks/attachments/<containerId>.json`: the netns path, per
 * network the conflist exactly as it was ADDed (DEL must get the same
 * configuration even if the network changed or went since), the runtimeConfig,
 * the interface name and the ADD's result (the prevResult of DEL and CHECK),
 * and the published ports.
 *
 * The record is written before the first ADD ("attaching") and again after
 * the last ("attached"), so a gantryd that dies in between leaves a record
 * that recovery DELs. It lives under the root, not the state dir: after a
 * reboot the namespaces are gone but host-local's allocations (under the
 * root too) still have to be released.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dataLoss } from '../errdefs/errdefs';
import { writeFileAtomic } from '../util/atomicfile';
import { readdirOrEmpty } from '../util/files';
import type { Conflist, RuntimeConfig } from './cni/conflist';
import type { CniResult } from './cni/result';
import type { PortMapping } from './ports/publish';

export interface NetworkAttachmentRecord {
  readonly network: string;
  readonly networkId: string;
  readonly ifname: string;
  readonly aliases: readonly string[];
  readonly conflist: Conflist;
  readonly runtimeConfig: RuntimeConfig;
  /** Absent until the ADD succeeded. */
  readonly result?: CniResult;
}

export interface AttachmentRecord {
  readonly containerId: string;
  readonly netns: string;
  readonly state: 'attaching' | 'attached';
  readonly networks: readonly NetworkAttachmentRecord[];
  readonly ports: readonly PortMapping[];
}

export class AttachmentStore {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  private file(containerId: string): string {
    return path.join(this.dir, `${containerId}.json`);
  }

  async get(containerId: string): Promise<AttachmentRecord | undefined> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.file(containerId), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      return JSON.parse(text) as AttachmentRecord;
    } catch (e) {
      throw dataLoss(`network attachment record ${this.file(containerId)} is corrupt`, e);
    }
  }

  async list(): Promise<AttachmentRecord[]> {
    const out: AttachmentRecord[] = [];
    for (const entry of (await readdirOrEmpty(this.dir)).sort()) {
      if (!entry.endsWith('.json')) continue;
      const record = await this.get(entry.slice(0, -'.json'.length));
      if (record) out.push(record);
    }
    return out;
  }

  put(record: AttachmentRecord): Promise<void> {
    return writeFileAtomic(this.file(record.containerId), JSON.stringify(record) + '\n', 0o600);
  }

  async remove(containerId: string): Promise<void> {
    await fs.promises.rm(this.file(containerId), { force: true });
  }
}
