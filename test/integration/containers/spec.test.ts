// A spec made by buildSpec (with resolveUser and writeEtcFiles, as the
// launcher does) run by the real runc 1.1.5 with `runc run`, no conmon: the
// process sees the env, hostname, user, mounts, capabilities, rlimit and
// cgroup limits the spec asked for, and its exit code comes back.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ALL_CAPABILITIES, capabilitiesFromMask, DEFAULT_CAPABILITIES } from '../../../runtime/oci/specgen/capabilities';
import type { ContainerConfig } from '../../../runtime/containers/containers';
import { writeEtcFiles } from '../../../runtime/oci/specgen/etcfiles';
import { buildSpec, containerHostname } from '../../../runtime/oci/specgen/build';
import { resolveUser } from '../../../runtime/oci/specgen/user';
import type { ContainerConfig as ImageConfig } from '../../../runtime/oci/manifest';
import { sharedBusyboxRootfs } from '../../helpers/conmonTask';
import { runCommand, startProcess } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { containerConfig } from '../../helpers/containerConfig';

const CGROUP_ROOT = '/sys/fs/cgroup';

function config(over: Partial<ContainerConfig> = {}): ContainerConfig {
  return containerConfig(over);
}

function hostNofileHard(): number {
  const line = fs
    .readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'))!;
  const hard = line.split(/\s{2,}/)[2];
  return hard === 'unlimited' ? Infinity : Number(hard);
}

const capBnd = () => /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];

/** /proc/<pid>/status mask of a capability set. */
function maskOf(caps: readonly string[]): string {
  let m = 0n;
  for (const c of caps) m |= 1n << BigInt(ALL_CAPABILITIES.indexOf(c));
  return m.toString(16).padStart(16, '0');
}

/** `KEY=value` lines of the container's output. */
function fields(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) m.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return m;
}

describe('containers: spec run by runc', function () {
  this.timeout(60_000);
  const cleanup = suiteCleanup();
  let dir: string;
  let rootfs: string;
  let runcRoot: string;
  let hostData: string;
  const cgroupParent = `/gantry-spectest-${process.pid}`;
  const started: string[] = [];

  before(async () => {
    dir = await makeTempDir('gt-spec', cleanup);
    // A private copy: runc creates mount points (/data, /etc/hostname …) in the rootfs, and the shared one stays pristine.
    rootfs = path.join(dir, 'rootfs');
    await runCommand('cp', ['-a', `${await sharedBusyboxRootfs()}/.`, rootfs]);
    runcRoot = path.join(dir, 'runc');
    hostData = path.join(dir, 'hostdata');
    await fs.promises.mkdir(hostData);
    await fs.promises.writeFile(path.join(hostData, 'hello'), 'from the host\n');
    cleanup.defer(async () => {
      for (const id of started) await runCommand('runc', ['--root', runcRoot, 'delete', '-f', id]).catch(() => undefined);
      // runc removes each container's own cgroup on delete, not the parent it made for it.
      for (const ctrl of await fs.promises.readdir(CGROUP_ROOT)) {
        await fs.promises.rmdir(path.join(CGROUP_ROOT, ctrl, cgroupParent)).catch(() => undefined);
      }
    });
  });

  /** Builds the bundle the way the launcher does, runs it to completion, returns exit code and output. */
  async function run(over: Partial<ContainerConfig>, image: ImageConfig = {}) {
    const id = randomBytes(32).toString('hex');
    started.push(id);
    const bundle = path.join(dir, id.slice(0, 12));
    const cfg = config(over);
    const hostname = containerHostname(id, cfg, os.hostname());
    const etcFiles = await writeEtcFiles(path.join(bundle, 'etc'), { hostname, network: cfg.network });
    const spec = buildSpec({
      id,
      config: cfg,
      image,
      user: await resolveUser(rootfs, cfg.user || image.User),
      rootfs,
      etcFiles,
      cgroupsPath: `${cgroupParent}/${id}`,
      nofileHardLimit: hostNofileHard(),
      hostHostname: os.hostname(),
      hostCapabilities: capabilitiesFromMask(capBnd()),
      swapAccounting: fs.existsSync(path.join(CGROUP_ROOT, 'memory/memory.memsw.limit_in_bytes')),
    });
    await fs.promises.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
    const p = startProcess('runc', ['--root', runcRoot, 'run', '--bundle', bundle, id], { name: `runc run ${id.slice(0, 12)}` });
    const status = await p.waitForExit();
    await new Promise<void>((resolve) => (p.child.stdout!.readableEnded ? resolve() : p.child.stdout!.once('end', resolve)));
    await runCommand('runc', ['--root', runcRoot, 'delete', '-f', id]);
    return { id, code: status.code, out: p.stdout, err: p.stderr, etcFiles };
  }

  it('env, hostname, user, bind and tmpfs mounts, capabilities, limits and the exit code', async () => {
    const script = [
      'echo "GREETING=$GREETING"',
      'echo "FROM_IMAGE=$FROM_IMAGE"',
      'echo "ENV_HOSTNAME=$HOSTNAME"',
      'echo "ENV_HOME=$HOME"',
      'echo "PATH_SEEN=$PATH"',
      'echo "UNAME_N=$(hostname)"',
      'echo "ETC_HOSTNAME=$(cat /etc/hostname)"',
      'echo "HOSTS_SELF=$(grep -c "$(hostname)" /etc/hosts)"',
      'echo "UID=$(id -u)"',
      'echo "CWD=$(pwd)"',
      'echo "DATA=$(cat /data/hello)"',
      'if touch /data/new 2>/dev/null; then echo DATA_RO=no; else echo DATA_RO=yes; fi',
      'echo "SCRATCH_MOUNT=$(grep " /scratch " /proc/mounts)"',
      'echo x > /scratch/f && echo "SCRATCH_WRITE=$(cat /scratch/f)"',
      'echo "CAPEFF=$(grep CapEff /proc/self/status | cut -f2)"',
      'echo "NOFILE=$(ulimit -n)"',
      'echo "MEM=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"',
      'echo "PIDS=$(cat /sys/fs/cgroup/pids/pids.max)"',
      'echo "CPU_QUOTA=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)"',
      'echo "TIMER_LIST=$(wc -c < /proc/timer_list)"',
      'echo "PROC_SYS=$(grep " /proc/sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1)"',
      'echo "LINKS=$(ls /sys/class/net | tr "\\n" " ")"',
      'exit 7',
    ].join('; ');
    const r = await run(
      {
        entrypoint: ['/bin/sh', '-c'],
        cmd: [script],
        env: ['GREETING=hello world'],
        hostname: 'spec-test',
        workingDir: '/tmp',
        mounts: [{ source: hostData, destination: '/data', readOnly: true }],
        tmpfs: [{ destination: '/scratch', options: ['size=1m', 'mode=1777'] }],
        capDrop: ['net_raw'],
        memoryBytes: 64 * 1024 * 1024,
        pidsLimit: 50,
        nanoCpus: 500_000_000,
      },
      { Cmd: ['this-image-cmd-must-not-run'], Env: ['FROM_IMAGE=yes', 'PATH=/bin:/usr/bin'] },
    );
    assert.equal(r.code, 7, `stderr: ${r.err}\nstdout: ${r.out}`);
    const f = fields(r.out);
    assert.equal(f.get('GREETING'), 'hello world');
    assert.equal(f.get('FROM_IMAGE'), 'yes');
    assert.equal(f.get('PATH_SEEN'), '/bin:/usr/bin');
    assert.equal(f.get('ENV_HOSTNAME'), 'spec-test');
    assert.equal(f.get('ENV_HOME'), '/root');
    assert.equal(f.get('UNAME_N'), 'spec-test');
    assert.equal(f.get('ETC_HOSTNAME'), 'spec-test');
    assert.equal(await fs.promises.readFile(r.etcFiles.hostname, 'utf8'), 'spec-test\n');
    assert.equal(f.get('HOSTS_SELF'), '1');
    assert.equal(f.get('UID'), '0');
    assert.equal(f.get('CWD'), '/tmp');
    assert.equal(f.get('DATA'), 'from the host');
    assert.equal(f.get('DATA_RO'), 'yes');
    assert.ok(!fs.existsSync(path.join(hostData, 'new')));
    assert.match(f.get('SCRATCH_MOUNT') ?? '', /^tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k\b/);
    assert.equal(f.get('SCRATCH_WRITE'), 'x');
    assert.equal(f.get('CAPEFF'), maskOf(DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_NET_RAW')));
    assert.equal(Number(f.get('NOFILE')), Math.min(1_048_576, hostNofileHard()));
    assert.equal(f.get('MEM'), String(64 * 1024 * 1024));
    assert.equal(f.get('PIDS'), '50');
    assert.equal(f.get('CPU_QUOTA'), '50000');
    // Masked paths read as /dev/null (the host's has content); read-only paths are remounted ro.
    assert.ok(fs.readFileSync('/proc/timer_list').length > 0);
    assert.equal(f.get('TIMER_LIST'), '0');
    assert.equal(f.get('PROC_SYS'), 'ro');
    assert.equal(f.get('LINKS')?.trim(), 'lo', 'network none: only loopback');
  });

  it("a non-root user from the image's passwd: its ids and HOME, no effective capabilities", async () => {
    const r = await run(
      { cmd: ['sh', '-c', 'echo "IDS=$(id -u):$(id -g)"; echo "HOME_SEEN=$HOME"; grep CapEff /proc/self/status | cut -f2'] },
      { User: 'nobody' },
    );
    assert.equal(r.code, 0, r.err);
    const f = fields(r.out);
    assert.equal(f.get('IDS'), '65534:65534');
    assert.equal(f.get('HOME_SEEN'), '/nonexistent');
    assert.match(r.out, /^0000000000000000$/m);
  });

  it('cap-add ALL grants what the daemon holds, and starts even where that is not every capability', async () => {
    const r = await run({ capAdd: ['ALL'], cmd: ['sh', '-c', 'grep CapEff /proc/self/status | cut -f2'] });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), capBnd());
  });

  it("network host: the host's network namespace and name, a private UTS namespace, the host's /etc/hosts", async () => {
    const r = await run({
      network: 'host',
      readOnlyRootfs: true,
      cmd: [
        'sh',
        '-c',
        'echo "NETNS=$(readlink /proc/self/ns/net)"; echo "UTSNS=$(readlink /proc/self/ns/uts)"; echo "NAME=$(hostname)"; cat /etc/hosts; if touch /probe 2>/dev/null; then echo ROOT_RO=no; else echo ROOT_RO=yes; fi',
      ],
    });
    assert.equal(r.code, 0, r.err);
    const f = fields(r.out);
    assert.equal(f.get('NETNS'), await fs.promises.readlink('/proc/self/ns/net'));
    assert.notEqual(f.get('UTSNS'), await fs.promises.readlink('/proc/self/ns/uts'));
    assert.equal(f.get('NAME'), os.hostname());
    assert.ok(r.out.includes(await fs.promises.readFile('/etc/hosts', 'utf8')));
    assert.equal(f.get('ROOT_RO'), 'yes');
  });
});
