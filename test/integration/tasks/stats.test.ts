// Stats and top against a real container: runc runs a busybox container in
// its own cgroup (/gantry-test-<random>, memory and pids limits), and the
// numbers are read from the host's cgroup files (v1 hybrid here) and /proc.
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { busyboxRootfs, writeBundle } from '../../helpers/bundle';
import { runCommand } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { cgroupLayout, cpuPercent, memoryPercent, readStats } from '../../../runtime/tasks/stats';
import { top } from '../../../runtime/tasks/top';
import { isNotFound } from '../../../runtime/errdefs/errdefs';
import { waitFor } from '../../helpers/waitFor';

const MEMORY_LIMIT = 64 * 1024 * 1024;
const PIDS_LIMIT = 40;

describe('tasks/stats and top with runc', function () {
  this.timeout(60_000);
  const cleanup = suiteCleanup();
  const id = `st-${crypto.randomBytes(3).toString('hex')}`;
  const cgroupPath = `/gantry-test-${crypto.randomBytes(4).toString('hex')}`;
  let runcRoot: string;
  let initPid: number;

  const runc = (...args: string[]) => runCommand('runc', [`--root=${runcRoot}`, ...args]);

  before(async () => {
    const work = await makeTempDir('gt-st', cleanup);
    runcRoot = path.join(work, 'runc');
    const rootfs = await busyboxRootfs(work);
    const bundle = await writeBundle(path.join(work, id), {
      rootfs,
      args: ['sh', '-c', 'sleep 1001 & sleep 1002 & wait'],
      edit: (spec) => {
        spec.linux.cgroupsPath = cgroupPath;
        spec.linux.resources = { ...spec.linux.resources, memory: { limit: MEMORY_LIMIT }, pids: { limit: PIDS_LIMIT } };
      },
    });
    cleanup.defer(async () => {
      await runc('kill', id, 'KILL').catch(() => undefined);
      await runc('delete', '--force', id).catch(() => undefined);
      // runc removes the cgroups on delete; make sure, in every hierarchy.
      for (const mount of new Set([...(await cgroupLayout()).v1.values()].map((m) => m.mountPoint))) {
        await fs.promises.rmdir(path.join(mount, cgroupPath)).catch(() => undefined);
      }
    });
    await runc('create', '--bundle', bundle, id);
    await runc('start', id);
    initPid = JSON.parse((await runc('state', id)).stdout).pid;
    // Wait until both sleeps run (the shell forks them after start).
    await waitFor(async () => (await pidsOf()).length >= 3, { what: 'the shell and both sleeps', timeoutMs: 20_000, describe: pidsOf });
  });

  const pidsOf = async (): Promise<number[]> => JSON.parse((await runc('ps', '--format', 'json', id)).stdout) ?? [];

  it('reads the memory and pids limits, usage, and CPU time that grows with work', async () => {
    const layout = await cgroupLayout();
    const before = await readStats(cgroupPath, initPid);
    assert.equal(before.cgroupVersion, layout.version);
    assert.equal(before.memory.limit, MEMORY_LIMIT);
    assert.equal(before.memory.limited, true);
    assert.ok(before.memory.usage > 0 && before.memory.used <= before.memory.usage, JSON.stringify(before.memory));
    assert.equal(before.pids.limit, PIDS_LIMIT);
    assert.ok(before.pids.current >= 3, `pids.current = ${before.pids.current}`);
    assert.ok(before.cpu.onlineCpus >= 1);
    assert.ok(before.network !== undefined, 'network counters from the init pid');

    // A busy loop inside the container (runc exec joins its cgroup).
    await runc('exec', id, 'sh', '-c', 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done');
    const after = await readStats(cgroupPath);
    assert.ok(after.cpu.usageNs > before.cpu.usageNs + 10_000_000, `cpu ${before.cpu.usageNs} → ${after.cpu.usageNs} ns`);
    assert.ok(after.cpu.userNs + after.cpu.systemNs > 0);
    assert.ok(after.cpu.hostNs > before.cpu.hostNs);
    const pct = cpuPercent(before, after);
    assert.ok(pct > 0 && pct <= 100 * after.cpu.onlineCpus, `cpu% = ${pct}`);
    assert.ok(memoryPercent(after) > 0 && memoryPercent(after) < 100);
    assert.equal(after.network, undefined, 'no pid, no network');

    // The same cgroup, located through the init pid instead of the path.
    const viaPid = await readStats('', initPid);
    assert.equal(viaPid.memory.limit, MEMORY_LIMIT);
    assert.equal(viaPid.pids.limit, PIDS_LIMIT);
  });

  it('top lists the container processes with their commands', async () => {
    const pids = await pidsOf();
    const t = await top(pids);
    assert.deepEqual(t.titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    const cmds = t.processes.map((p) => p[7]).sort();
    assert.deepEqual(cmds, ['sh -c sleep 1001 & sleep 1002 & wait', 'sleep 1001', 'sleep 1002']);
    const byCmd = new Map(t.processes.map((p) => [p[7], p]));
    const sh = byCmd.get('sh -c sleep 1001 & sleep 1002 & wait')!;
    assert.equal(sh[1], String(initPid));
    assert.equal(byCmd.get('sleep 1001')![2], String(initPid), 'PPID of a sleep is the shell');
    assert.equal(sh[0], 'root');
    assert.match(sh[6], /^\d\d:\d\d:\d\d$/);

    const custom = await top([...pids, 999_999_999], ['-o', 'pid,comm,stat']);
    assert.deepEqual(custom.titles, ['PID', 'COMMAND', 'STAT']);
    assert.equal(custom.processes.length, pids.length, 'a pid that is gone is left out');
    assert.deepEqual(custom.processes.map((p) => p[1]).sort(), ['sh', 'sleep', 'sleep']);
    assert.ok(
      custom.processes.every((p) => /^[SR]/.test(p[2])),
      JSON.stringify(custom.processes),
    );
  });

  it('a cgroup that does not exist is NotFound', async () => {
    await assert.rejects(readStats(`${cgroupPath}-missing`), isNotFound);
    await assert.rejects(readStats('', 999_999_999), isNotFound);
  });
});
