// The probe script runs here under the real /bin/sh against a temp HOME; its
// parser, the Node choice and the requirement messages are checked on that
// output and on small hand-written cases.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  checkRequirements,
  networkWarning,
  parseProbe,
  PROBE_SCRIPT,
  probeCniDirs,
  selectNode,
} from '../../../../runtime/client/ssh/probe';
import { probeAvailability } from '../../../../runtime/network/availability';
import type { HostFacts, NodeInstall } from '../../../../runtime/client/ssh/remote';

function runProbe(env: NodeJS.ProcessEnv, version = '0.1.0', ...more: string[]): HostFacts {
  const res = spawnSync('/bin/sh', ['-s', '--', version, ...more], { input: PROBE_SCRIPT, env, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  return parseProbe(res.stdout);
}

const sha = (data: string) => createHash('sha256').update(data).digest('hex');

describe('remote: host probe', () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'gprobe-'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('reports OS, arch, uid, tools, Nodes (PATH and VS Code server) and installed files', () => {
    // A VS Code server install's Node: the real node binary, linked where the server keeps it.
    const server = path.join(home, '.vscode-server', 'bin', 'abc123');
    fs.mkdirSync(server, { recursive: true });
    fs.symlinkSync(process.execPath, path.join(server, 'node'));
    const gantryHome = path.join(home, 'gh');
    const bin = path.join(gantryHome, 'bin', '0.1.0');
    fs.mkdirSync(path.join(bin, 'native'), { recursive: true });
    fs.writeFileSync(path.join(bin, 'gantry.js'), 'bundle');
    fs.writeFileSync(path.join(bin, 'native', 'a b.node'), 'addon');

    const facts = runProbe({ PATH: '/nonexistent', HOME: home, GANTRY_HOME: gantryHome });
    assert.equal(facts.os, 'Linux');
    assert.equal(facts.arch, spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim());
    assert.equal(facts.uid, process.getuid!());
    assert.equal(facts.runc, '/usr/sbin/runc', 'the standard dirs are searched although PATH lacks them');
    assert.equal(facts.conmon, '/usr/bin/conmon');
    assert.ok(facts.sha256sum);
    assert.deepEqual(
      facts.nodes.map((n) => n.source),
      ['path', 'vscode-server'],
    );
    assert.equal(facts.nodes[1].path, path.join(server, 'node'));
    assert.equal(facts.nodes[1].version, process.version);
    assert.equal(facts.node?.source, 'path');
    assert.equal(facts.gantryHome, gantryHome);
    assert.equal(facts.gantryHomeSet, true);
    assert.equal(facts.socket, path.join(gantryHome, 'state', 'gantry.sock'));
    assert.deepEqual([...facts.installed].sort(), [
      ['gantry.js', sha('bundle')],
      ['native/a b.node', sha('addon')],
    ]);
    assert.equal(facts.daemon, undefined, 'no daemon answers on a socket that does not exist');
  });

  it('defaults GANTRY_HOME to ~/.gantry and the socket to gantryd’s root default', () => {
    const facts = runProbe({ PATH: '/usr/bin:/bin', HOME: home });
    assert.equal(facts.gantryHome, path.join(home, '.gantry'));
    assert.equal(facts.gantryHomeSet, false);
    assert.equal(facts.socket, '/run/gantry/gantry.sock');
    assert.equal(facts.installed.size, 0);
  });

  it('detects a probe answer cut short', () => {
    assert.throws(
      () => parseProbe('probe=1\nos=Linux\n'),
      (e: Error) => /cut short/.test(e.message),
    );
  });

  it('prefers a new-enough Node on PATH, else the newest VS Code server Node', () => {
    const n = (source: NodeInstall['source'], version: string): NodeInstall => ({ source, version, path: `/${source}/${version}` });
    assert.equal(selectNode([n('path', 'v20.19.0'), n('vscode-server', 'v22.1.0')])?.version, 'v20.19.0');
    assert.equal(selectNode([n('path', 'v18.19.0'), n('vscode-server', 'v20.18.1'), n('vscode-server', 'v22.3.0')])?.version, 'v22.3.0');
    assert.equal(selectNode([n('path', 'v18.19.0'), n('vscode-server', 'v20.18.0')]), undefined);
    assert.equal(selectNode([]), undefined);
  });

  it('lists everything missing with how to install it, and nothing when complete', () => {
    const base: HostFacts = {
      os: 'Linux',
      arch: 'x86_64',
      uid: 1000,
      sudo: true,
      nodes: [],
      runc: '/usr/sbin/runc',
      conmon: '/usr/bin/conmon',
      sha256sum: '/usr/bin/sha256sum',
      gantryHome: '/home/u/.gantry',
      gantryHomeSet: false,
      socket: '/run/gantry/gantry.sock',
      viaSudo: true,
      installed: new Map(),
      node: { source: 'path', version: 'v20.19.0', path: '/usr/bin/node' },
    };
    assert.equal(checkRequirements(base, 'ssh://box', false), undefined);

    const bare = checkRequirements(
      {
        ...base,
        node: undefined,
        nodes: [{ source: 'path', version: 'v18.19.0', path: '/usr/bin/node' }],
        runc: undefined,
        conmon: undefined,
        sudo: false,
      },
      'ssh://box',
      false,
    );
    assert.equal(bare?.kind, 'FailedPrecondition');
    assert.match(bare.message, /ssh:\/\/box cannot run gantryd; missing:/);
    assert.match(bare.message, /Node\.js 20\.18\.1 or newer \(found only v18\.19\.0 at \/usr\/bin\/node\)/);
    assert.match(bare.message, /runc and conmon .*`sudo apt install runc conmon`/);
    // Without sudo the daemon is the user's own rootless one: root is not among the missing (rootlessCheck.ts asks the rest).
    assert.doesNotMatch(bare.message, /root to start gantryd/);

    assert.match(
      checkRequirements({ ...base, runc: undefined }, 'ssh://box', false)!.message,
      /- runc \(not on PATH.*`sudo apt install runc`/,
    );
    // A daemon of ours already answers: it has its tools; only Node matters, and root is not needed.
    assert.equal(checkRequirements({ ...base, runc: undefined, sudo: false }, 'ssh://box', true), undefined);
    assert.match(
      checkRequirements({ ...base, os: 'Darwin' }, 'ssh://mac', false)!.message,
      /ssh:\/\/mac runs Darwin: gantryd runs on Linux only/,
    );
  });

  it('a non-root login reports root’s own tools and bundle, and the system socket whatever GANTRY_HOME says', () => {
    const facts = parseProbe(
      [
        'probe=1',
        'os=Linux',
        'uid=1000',
        'sudo=1',
        'system=1',
        'gantry_home=/home/u/.gantry',
        'gantry_home_set=1',
        'root_refused=node /home/u/bin/node',
        'root_node=path v20.19.0 /usr/bin/node',
        'root_runc=/usr/sbin/runc',
        'socket=/run/gantry/gantry.sock',
        `sysfile=${sha('js')} gantry.js`,
        `file=${sha('staged')} gantry.js`,
        'end=1',
      ].join('\n'),
    );
    assert.equal(facts.socket, '/run/gantry/gantry.sock');
    assert.deepEqual(facts.system?.node, { source: 'path', version: 'v20.19.0', path: '/usr/bin/node' });
    assert.equal(facts.system?.runc, '/usr/sbin/runc');
    assert.deepEqual(facts.system?.refused, ['node /home/u/bin/node']);
    assert.deepEqual([...facts.system.installed], [['gantry.js', sha('js')]]);
    assert.deepEqual([...facts.installed], [['gantry.js', sha('staged')]]);
    // Root's conmon is missing: the user's own does not count.
    const missing = checkRequirements({ ...facts, conmon: '/home/u/bin/conmon', sha256sum: '/usr/bin/sha256sum' }, 'ssh://box', false);
    assert.match(
      missing!.message,
      /- conmon for root: root runs only root-owned.*\(refused, not root's own or writable by others: node \/home\/u\/bin\/node\)/,
    );
    assert.equal(parseProbe('probe=1\nuid=0\nend=1').system, undefined, 'a root login');
  });

  it('finds the CNI plugins and network tools this host has in the daemon’s default dirs: no warning', () => {
    const facts = runProbe({ PATH: '/nonexistent', HOME: home });
    assert.deepEqual(facts.network, { cniBinDirs: ['/usr/lib/cni', '/opt/cni/bin'], missingPlugins: [], missingTools: [] });
    assert.equal(networkWarning(facts.network, 'ssh://box'), undefined);
  });

  it('names the CNI plugins missing from the dirs the daemon would use, in the daemon’s own words', async () => {
    // Only bridge and loopback are there (portmap is not executable), in the dirs a --cni-bin-dir gives.
    const cni = path.join(home, 'cni');
    const other = path.join(home, 'other dir');
    fs.mkdirSync(cni);
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(cni, 'bridge'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(other, 'loopback'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(cni, 'portmap'), '', { mode: 0o644 });
    const dirs = probeCniDirs(['--log-level', 'debug', '--cni-bin-dir', cni, `--cni-bin-dir=${other}`]);
    assert.equal(dirs, `${cni}:${other}`);

    const facts = runProbe({ PATH: '/usr/bin:/bin', HOME: home }, '0.1.0', dirs);
    assert.deepEqual(facts.network?.cniBinDirs, [cni, other]);
    assert.deepEqual(facts.network?.missingPlugins, ['host-local', 'portmap', 'firewall', 'tuning']);
    assert.deepEqual(facts.network?.missingTools, []);
    const warning = networkWarning(facts.network, 'ssh://box');
    const where = `(in ${cni}, ${other})`;
    assert.equal(
      warning,
      `ssh://box: container networking needs CNI plugin host-local ${where}, CNI plugin portmap ${where}, ` +
        `CNI plugin firewall ${where}, CNI plugin tuning ${where}: install with apt-get install containernetworking-plugins; ` +
        'until then containers there can use only --network none or host',
    );
    // gantryd's own check of the same dirs (info, a bridge run's error) says the same.
    assert.ok(warning.includes((await probeAvailability([cni, other])).hint));
  });

  it('warns about missing iptables and namespace tools with their packages; an old probe’s answer gives no warning', () => {
    const facts = parseProbe(
      [
        'probe=1',
        'os=Linux',
        'uid=0',
        'cni_dirs=/usr/lib/cni',
        'net_tool_missing=iptables',
        'net_tool_missing=iptables-save',
        'net_tool_missing=nsenter',
        'end=1',
      ].join('\n'),
    );
    assert.deepEqual(facts.network, {
      cniBinDirs: ['/usr/lib/cni'],
      missingPlugins: [],
      missingTools: ['iptables', 'iptables-save', 'nsenter'],
    });
    assert.equal(
      networkWarning(facts.network, 'ssh://box'),
      'ssh://box: container networking needs iptables, iptables-save, nsenter: install with apt-get install iptables util-linux; ' +
        'until then containers there can use only --network none or host',
    );
    assert.equal(parseProbe('probe=1\nos=Linux\nend=1').network, undefined);
    assert.equal(networkWarning(undefined, 'ssh://box'), undefined);
    assert.equal(probeCniDirs(), '/usr/lib/cni:/opt/cni/bin');
  });
});
