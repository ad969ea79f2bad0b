// Shared set-up of the CLI container suites: a real registry with a busybox
// image, a real gantryd with it pulled, and an afterEach that removes every
// container a test left (rm -f), so each test starts from an empty `ps -a`.
import * as assert from 'node:assert/strict';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { pushBusybox } from '../../helpers/fixtures';
import { startRegistry, type Registry } from '../../helpers/registry';
import type { Cleanup } from '../../helpers/tmp';
import { waitFor } from '../../helpers/waitFor';

export interface PsJson {
  id: string;
  name: string;
  status: string;
  exitCode: number;
}

export const FULL_ID = /^[0-9a-f]{64}\n$/;

export class CliSuite {
  registry!: Registry;
  daemon!: TestDaemon;
  /** HOST/test/busybox:latest, pulled. */
  image = '';

  /** Registers before/afterEach in the calling describe(). */
  constructor(cleanup: Cleanup) {
    before(async () => {
      this.registry = await startRegistry({ cleanup });
      await pushBusybox(this.registry, 'test/busybox:latest', { format: 'oci' });
      await pushBusybox(this.registry, 'test/busybox:unpulled', { format: 'oci', image: { marker: 'unpulled' } });
      this.daemon = await startDaemon(cleanup);
      this.image = `${this.registry.host}/test/busybox:latest`;
      const pull = await this.daemon.cli(['pull', '-q', this.image]);
      assert.equal(pull.code, 0, pull.stderr);
    });

    afterEach(async () => {
      const ids = await this.daemon.cli(['ps', '-a', '-q', '--no-trunc']);
      assert.equal(ids.code, 0, ids.stderr);
      const all = ids.stdout.split('\n').filter(Boolean);
      if (all.length) {
        const rm = await this.daemon.cli(['rm', '-f', ...all]);
        assert.equal(rm.code, 0, rm.stderr);
      }
    });
  }

  async ps(...args: string[]): Promise<PsJson[]> {
    const result = await this.daemon.cli(['ps', '--json', ...args]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as PsJson[];
  }

  /** `run -d ARGS…`; asserts success and returns the full ID. */
  async runDetached(...args: string[]): Promise<string> {
    const result = await this.daemon.cli(['run', '-d', ...args]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, FULL_ID);
    return result.stdout.trim();
  }

  /** Polls `logs` until `text` shows up (the container got that far). */
  async waitForLog(name: string, text: string): Promise<void> {
    let last = '';
    await waitFor(async () => (last = (await this.daemon.cli(['logs', name])).stdout).includes(text), {
      what: `"${text}" in the logs of ${name}`,
      timeoutMs: 20_000,
      intervalMs: 100,
      describe: () => last.slice(-500),
    });
  }
}
