// Shared set-up of the volume suites: a registry with two images — plain
// busybox, and one with content at /data (owners, modes, a link) and a
// VOLUME /vol seeded with a file — a gantryd that pulled both, and an
// afterEach that removes every container and then every volume, so each
// test starts with none. Containers run with --network none: volumes are
// under test here, not networking.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDaemon, type CliResult, type TestDaemon } from '../../helpers/daemon';
import { pushBusybox, type ImageSpec } from '../../helpers/fixtures';
import { startRegistry } from '../../helpers/registry';
import type { Cleanup } from '../../helpers/tmp';

export const VOLUME_IMAGE: ImageSpec = {
  marker: 'volumes',
  files: {
    '/data/app/config.txt': 'from the image\n',
    '/data/top.txt': 'top\n',
    '/vol/seed.txt': 'seeded\n',
  },
  dirs: ['/data/empty'],
  links: { '/data/link': 'app/config.txt', '/data/escape': '/etc/gantry-fixture' },
  owners: {
    '/data': { uid: 1000, gid: 1001, mode: 0o750 },
    '/data/app': { uid: 1234, gid: 4321, mode: 0o710 },
    '/data/app/config.txt': { uid: 1234, gid: 4321, mode: 0o640 },
  },
  volumes: ['/vol'],
};

export class VolumeSuite {
  daemon!: TestDaemon;
  /** Plain busybox. */
  image = '';
  /** VOLUME_IMAGE. */
  volImage = '';

  constructor(cleanup: Cleanup) {
    before(async () => {
      const registry = await startRegistry({ cleanup });
      await pushBusybox(registry, 'vt/busybox:latest', { format: 'oci' });
      await pushBusybox(registry, 'vt/volimage:latest', { format: 'oci', image: VOLUME_IMAGE });
      this.daemon = await startDaemon(cleanup);
      this.image = `${registry.host}/vt/busybox:latest`;
      this.volImage = `${registry.host}/vt/volimage:latest`;
      for (const image of [this.image, this.volImage]) await this.ok(['pull', '-q', image]);
    });

    afterEach(async () => {
      const ids = (await this.ok(['ps', '-a', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await this.ok(['rm', '-f', ...ids]);
      const names = (await this.ok(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
      if (names.length) await this.ok(['volume', 'rm', ...names]);
    });
  }

  cli(args: readonly string[]): Promise<CliResult> {
    return this.daemon.cli(args);
  }

  /** Asserts exit code 0. */
  async ok(args: readonly string[]): Promise<CliResult> {
    const r = await this.daemon.cli(args);
    assert.equal(r.code, 0, `gantry ${args.join(' ')}: ${r.stderr}`);
    return r;
  }

  /** `run --rm --network none ARGS…` attached; the result as it came. */
  run(...args: string[]): Promise<CliResult> {
    return this.daemon.cli(['run', '--rm', '--network', 'none', ...args]);
  }

  async volumeNames(): Promise<string[]> {
    return (await this.ok(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
  }

  /** The host directory of a volume (`<root>/volumes/<name>/_data`). */
  dataDir(name: string): string {
    return path.join(this.daemon.root, 'volumes', name, '_data');
  }

  async inspectVolume(name: string): Promise<{ Name: string; Mountpoint: string; Labels: Record<string, string>; UsedBy: string[] }> {
    const [v] = JSON.parse((await this.ok(['volume', 'inspect', name])).stdout) as never[];
    return v;
  }

  async mounts(container: string): Promise<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }[]> {
    const [c] = JSON.parse((await this.ok(['inspect', container])).stdout) as { Mounts: never[] }[];
    return c.Mounts;
  }

  /** Entries of a volume's data directory on the host. */
  listData(name: string): string[] {
    return fs.readdirSync(this.dataDir(name)).sort();
  }
}
