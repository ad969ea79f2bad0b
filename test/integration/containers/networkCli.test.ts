// Networking through the `gantry` CLI against a real gantryd (real CNI
// plugins, iptables, runc): `run -p` with busybox httpd answering on the
// host, `gantry port` and the PORTS column of `ps`, the `gantry network`
// commands, `run --network NAME`, and bad input with Docker's exit codes.
import * as assert from 'node:assert/strict';
import { freePort } from '../../helpers/ports';
import { suiteCleanup } from '../../helpers/tmp';
import { httpGet } from '../network/harness';
import { CliSuite } from './cliSuite';
import { eventually } from './harness';

describe('gantry networking commands (real daemon, CNI plugins, runc)', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  const t = new CliSuite(cleanup);

  afterEach(async () => {
    // After CliSuite's rm -f of every container (registered first, so it runs first).
    const prune = await t.daemon.cli(['network', 'prune', '-f']);
    assert.equal(prune.code, 0, prune.stderr);
  });

  const webScript = (body: string) => `mkdir -p /www && echo '${body}' > /www/index.html && exec httpd -f -p 80 -h /www`;

  it('run -d -p HOST:80 publishes busybox httpd on 127.0.0.1; port and ps show the mapping', async () => {
    const hostPort = await freePort();
    await t.runDetached('--name', 'web', '-p', `${hostPort}:80`, t.image, 'sh', '-c', webScript('hello over -p'));
    const body = await eventually(`httpd answering on 127.0.0.1:${hostPort}`, () =>
      httpGet(`http://127.0.0.1:${hostPort}/`).catch(() => undefined),
    );
    assert.equal(body, 'hello over -p\n');

    const port = await t.daemon.cli(['port', 'web']);
    assert.equal(port.code, 0, port.stderr);
    assert.equal(port.stdout, `80/tcp -> 0.0.0.0:${hostPort}\n`);
    const one = await t.daemon.cli(['port', 'web', '80/tcp']);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, `0.0.0.0:${hostPort}\n`);
    const none = await t.daemon.cli(['port', 'web', '81']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^gantry: no public port '81\/tcp' published for web\n$/);

    const ps = await t.daemon.cli(['ps']);
    assert.equal(ps.code, 0, ps.stderr);
    const [header, row] = ps.stdout.split('\n');
    assert.match(header, /STATUS +PORTS +NAMES$/);
    assert.ok(row.includes(`0.0.0.0:${hostPort}->80/tcp`), ps.stdout);
    assert.equal(row.indexOf(`0.0.0.0:${hostPort}->80/tcp`), header.indexOf('PORTS'), 'in the PORTS column');

    const stop = await t.daemon.cli(['stop', '-t', '1', 'web']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal((await t.daemon.cli(['port', 'web'])).stdout, '', 'no ports once stopped');
  });

  it('network create/ls/inspect/rm round trip; rm of a network in use names the container; run --network NAME', async () => {
    const create = await t.daemon.cli(['network', 'create', '--label', 'team=web', '-o', 'mtu=1400', 'clinet']);
    assert.equal(create.code, 0, create.stderr);
    const id = create.stdout.trim();
    assert.match(id, /^[0-9a-f]{12,}$/);

    const ls = await t.daemon.cli(['network', 'ls']);
    assert.equal(ls.code, 0, ls.stderr);
    const lines = ls.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^NETWORK ID +NAME +DRIVER +SUBNET$/);
    const row = lines.find((l) => / clinet /.test(l));
    assert.ok(row, ls.stdout);
    assert.match(row, new RegExp(`^${id.slice(0, 12)} +clinet +bridge +\\d+\\.\\d+\\.\\d+\\.\\d+/\\d+$`));
    assert.ok(
      lines.some((l) => / bridge +bridge /.test(l)),
      'the default network is listed',
    );
    const quiet = await t.daemon.cli(['network', 'ls', '-q']);
    assert.ok(quiet.stdout.split('\n').includes(id.slice(0, 12)), quiet.stdout);
    const json = await t.daemon.cli(['network', 'ls', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const names = (JSON.parse(json.stdout) as { name: string }[]).map((n) => n.name);
    assert.ok(names.includes('clinet') && names.includes('bridge'), names.join(','));
    // --format json is Docker's: one object per line, Docker's field names.
    const jsonLines = await t.daemon.cli(['network', 'ls', '--format', 'json']);
    assert.equal(jsonLines.code, 0, jsonLines.stderr);
    const records = jsonLines.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { Name: string; ID: string; Driver: string; Scope: string; Labels: string; Subnet: string });
    const clinet = records.find((r) => r.Name === 'clinet');
    assert.deepEqual(clinet && { ...clinet, CreatedAt: undefined }, {
      Name: 'clinet',
      ID: id.slice(0, 12),
      Driver: 'bridge',
      Scope: 'local',
      IPv6: 'false',
      Internal: 'false',
      Labels: 'team=web',
      Subnet: clinet?.Subnet,
      CreatedAt: undefined,
    });
    assert.ok(
      records.some((r) => r.Name === 'bridge'),
      jsonLines.stdout,
    );
    const names2 = await t.daemon.cli(['network', 'ls', '--format', '{{.Name}} {{.Label "team"}}']);
    assert.ok(names2.stdout.split('\n').includes('clinet web'), names2.stdout);

    const inspect = await t.daemon.cli(['network', 'inspect', 'clinet']);
    assert.equal(inspect.code, 0, inspect.stderr);
    const [info] = JSON.parse(inspect.stdout) as { id: string; name: string; labels: Record<string, string>; subnet: string }[];
    assert.equal(info.id, id);
    assert.equal(info.name, 'clinet');
    assert.deepEqual(info.labels, { team: 'web' });

    const run = await t.daemon.cli([
      'run',
      '--rm',
      '--network',
      'clinet',
      '--network-alias',
      'api',
      t.image,
      'sh',
      '-c',
      'ip -4 -o addr show eth0',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const prefix = info.subnet.split('.').slice(0, 3).join('\\.');
    assert.match(run.stdout, new RegExp(`inet ${prefix}\\.\\d+/`), `eth0 is on ${info.subnet}`);

    await t.daemon.cli(['create', '--name', 'holder', '--net', 'clinet', t.image, 'sleep', '60']);
    const refused = await t.daemon.cli(['network', 'rm', 'clinet']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /holder/, 'the error names the container');
    assert.equal((await t.daemon.cli(['rm', 'holder'])).code, 0);

    const rm = await t.daemon.cli(['network', 'rm', 'clinet']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout, 'clinet\n');
    const gone = await t.daemon.cli(['network', 'inspect', 'clinet']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /clinet/);
  });

  it('network prune -f removes unused user networks; without -f it asks', async () => {
    assert.equal((await t.daemon.cli(['network', 'create', 'spare1'])).code, 0);
    const no = await t.daemon.cli(['network', 'prune'], { input: 'n\n' });
    assert.equal(no.code, 0, no.stderr);
    assert.match(no.stderr, /Are you sure you want to continue\? \[y\/N\]/);
    const prune = await t.daemon.cli(['network', 'prune', '-f']);
    assert.equal(prune.code, 0, prune.stderr);
    assert.equal(prune.stdout, 'Deleted Networks:\nspare1\n');
  });

  it('a malformed -p and an unknown --network: a clear message and exit code 125, nothing created', async () => {
    const bad = await t.daemon.cli(['run', '--rm', '-p', '80:http', t.image, 'true']);
    assert.equal(bad.code, 125, bad.stderr);
    assert.match(bad.stderr, /^gantry: invalid port specification "80:http"/m);
    const unknown = await t.daemon.cli(['run', '--rm', '--network', 'nosuchnet', t.image, 'true']);
    assert.equal(unknown.code, 125, unknown.stderr);
    assert.match(unknown.stderr, /nosuchnet/);
    assert.deepEqual(await t.ps('-a'), []);
  });
});
