// The pod infra rootfs (runtime/cri/pause.ts) is pinned as containerd pins
// its sandbox image: no image names it, yet `system prune -a` between pods
// leaves it, so a collection can never take it from under a RunPodSandbox.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { startCriDaemon } from '../../helpers/criClient';
import { runGantry } from '../../helpers/daemon';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

describe('CRI pods: the infra rootfs is pinned', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();

  it('survives system prune -a with no pod left, and the next pod runs on the same snapshot', async () => {
    const logDir = await makeTempDir('crilogs', cleanup);
    const { daemon, cri } = await startCriDaemon(cleanup, logDir, 'gtq', 224);
    const pauseSnapshots = async () => {
      const r = await runGantry(['--socket', daemon.socket, 'snapshots', 'ls', '--json']);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { snapshots: { name: string }[] }).snapshots
        .map((s) => s.name)
        .filter((n) => n.startsWith('cri-pause-'));
    };
    const runAndRemovePod = async (name: string) => {
      const config = {
        metadata: { name, namespace: 'default', uid: randomBytes(6).toString('hex'), attempt: 0 },
        hostname: name,
        logDirectory: path.join(logDir, name),
      };
      const { podSandboxId } = await cri.runtime.runPodSandbox({ config });
      await cri.runtime.stopPodSandbox({ podSandboxId });
      await cri.runtime.removePodSandbox({ podSandboxId });
    };

    await runAndRemovePod('first');
    const [made, ...more] = await pauseSnapshots();
    assert.ok(made, 'the first pod made the infra snapshot');
    assert.deepEqual(more, []);
    const prune = await runGantry(['--socket', daemon.socket, 'system', 'prune', '-a', '-f']);
    assert.equal(prune.code, 0, prune.stderr);
    assert.deepEqual(await pauseSnapshots(), [made], 'still there after the prune');
    await runAndRemovePod('second');
    assert.deepEqual(await pauseSnapshots(), [made]);
  });
});
