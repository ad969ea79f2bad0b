// Cgroup layout detection from mountinfo, and stats from a cgroup v2 tree.
// This host is v1 hybrid (the integration test reads real v1 files); v2 files
// are written here in the kernel's exact formats, in a temp dir standing in
// for /sys/fs/cgroup.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeTempDir, removeTempDir } from '../../helpers/tmp';
import { ContainerStats, cpuPercent, parseMountinfo, parseNetDev, readStats } from '../../../runtime/tasks/stats';
import { isNotFound } from '../../../runtime/errdefs/errdefs';

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const JOINED = '25 20 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct\n';
const PURE_V2 =
  '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n';

describe('tasks/stats', () => {
  it('detects hybrid v1 and pure v2 layouts from mountinfo', () => {
    const hybrid = parseMountinfo(HYBRID);
    assert.equal(hybrid.version, 1);
    assert.equal(hybrid.v1.get('memory')?.mountPoint, '/sys/fs/cgroup/memory');
    assert.equal(hybrid.v1.has('name=systemd'), false);
    assert.equal(hybrid.unified?.mountPoint, '/sys/fs/cgroup/unified');
    const joined = parseMountinfo(JOINED);
    assert.equal(joined.v1.get('cpu')?.mountPoint, '/sys/fs/cgroup/cpu,cpuacct');
    assert.equal(joined.v1.get('cpuacct')?.mountPoint, '/sys/fs/cgroup/cpu,cpuacct');
    const v2 = parseMountinfo(PURE_V2);
    assert.equal(v2.version, 2);
    assert.equal(v2.v1.size, 0);
    assert.equal(v2.unified?.mountPoint, '/sys/fs/cgroup');
  });

  describe('cgroup v2 files', () => {
    let root: string;
    beforeEach(async () => (root = await makeTempDir('gt-cg2')));
    afterEach(() => removeTempDir(root));

    const layout = () => ({ version: 2 as const, v1: new Map(), unified: { mountPoint: root, root: '/' } });

    function writeCgroup(rel: string, files: Record<string, string>): void {
      const dir = path.join(root, rel);
      fs.mkdirSync(dir, { recursive: true });
      for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
    }

    it('reads memory (minus inactive_file), cpu.stat, pids and io.stat', async () => {
      writeCgroup('gantry/abc', {
        'memory.current': '52428800\n',
        'memory.max': '67108864\n',
        'memory.stat':
          'anon 20971520\nfile 31457280\nkernel 1048576\ninactive_file 10485760\nactive_file 20971520\npgfault 1234\npgmajfault 5\n',
        'cpu.stat': 'usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\nnr_periods 10\nnr_throttled 2\nthrottled_usec 30000\n',
        'pids.current': '3\n',
        'pids.max': '40\n',
        'io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n',
      });
      const s = await readStats('/gantry/abc', undefined, { layout: layout() });
      assert.equal(s.cgroupVersion, 2);
      assert.deepEqual(s.memory, {
        usage: 52428800,
        used: 41943040,
        cache: 31457280,
        inactiveFile: 10485760,
        limit: 67108864,
        limited: true,
        rss: 20971520,
        pageFaults: 1234,
        majorPageFaults: 5,
      });
      assert.deepEqual(
        [s.cpu.usageNs, s.cpu.userNs, s.cpu.systemNs, s.cpu.periods, s.cpu.throttledPeriods, s.cpu.throttledNs],
        [1.5e9, 1e9, 5e8, 10, 2, 3e7],
      );
      assert.deepEqual(s.pids, { current: 3, limit: 40 });
      assert.deepEqual(s.blockIo, { readBytes: 4097, writeBytes: 8194 });
    });

    it('"max" means no limit: memory falls back to the host total, pids to 0', async () => {
      writeCgroup('c', {
        'memory.current': '100\n',
        'memory.max': 'max\n',
        'memory.stat': 'inactive_file 500\n',
        'pids.current': '1\n',
        'pids.max': 'max\n',
      });
      const s = await readStats('/c', undefined, { layout: layout() });
      assert.deepEqual([s.memory.limit, s.memory.limited, s.memory.used], [os.totalmem(), false, 100]);
      assert.deepEqual(s.pids, { current: 1, limit: 0 });
    });

    it('a missing cgroup is NotFound', async () => {
      await assert.rejects(readStats('/nope', undefined, { layout: layout() }), isNotFound);
    });
  });

  it('reads each interface of /proc/<pid>/net/dev but lo, with its errors', () => {
    const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     140       2    0    0    0     0          0         0      140       2    0    0    0     0       0          0
  eth0:    5022      41    3    0    0     0          0         0     1262      13    7    0    0     0       0          0
`;
    assert.deepEqual(parseNetDev(text), [
      { name: 'eth0', rxBytes: 5022, rxPackets: 41, rxErrors: 3, txBytes: 1262, txPackets: 13, txErrors: 7 },
    ]);
  });

  it("cpuPercent is Docker's: container delta over host delta, times online CPUs", () => {
    const sample = (usageNs: number, hostNs: number) => ({ cpu: { usageNs, hostNs, onlineCpus: 4 } }) as ContainerStats;
    assert.equal(cpuPercent(sample(1e9, 100e9), sample(3e9, 108e9)), 100); // 2 s of 8 s host time on 4 CPUs = one CPU
    assert.equal(cpuPercent(sample(1e9, 100e9), sample(1e9, 108e9)), 0);
    assert.equal(cpuPercent(sample(1e9, 100e9), sample(2e9, 100e9)), 0, 'no host time passed');
  });
});
