// Docker's output habits in the `gantry` CLI against a real gantryd: --format
// Go templates on inspect (Docker's inspect shape), ps, images and network ls,
// `table` headers, `--format json`, `inspect --json`, and a bad template
// exiting 2. The expected texts are what Docker prints for the same template
// (docs/cli.md, "Output formats").
import * as assert from 'node:assert/strict';
import { suiteCleanup } from '../../helpers/tmp';
import { CliSuite } from './cliSuite';

describe('gantry --format and Docker-shaped inspect (real daemon, runc, conmon)', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();
  const t = new CliSuite(cleanup);

  const cli = async (...args: string[]) => {
    const r = await t.daemon.cli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  it("inspect --format reads Docker's paths: .State.ExitCode of a container that exited 3, .Name, .Config, range, json", async () => {
    const run = await t.daemon.cli(['run', '--name', 'three', '-e', 'GREETING=hi', '--label', 'team=web', t.image, 'sh', '-c', 'exit 3']);
    assert.equal(run.code, 3, run.stderr);
    assert.equal(await cli('inspect', '--format', '{{.State.ExitCode}}', 'three'), '3\n');
    assert.equal(
      await cli('container', 'inspect', '-f', '{{.Name}} {{.State.Status}} {{.State.Running}} {{.State.Dead}}', 'three'),
      '/three exited false false\n',
    );
    const [gantry] = JSON.parse(await cli('inspect', 'three')) as Array<{ id: string; imageId: string; config: { image: string } }>;
    assert.equal(
      await cli('inspect', '-f', '{{.Id}}|{{.Image}}|{{.Config.Image}}', 'three'),
      `${gantry.id}|${gantry.imageId}|${t.image}\n`,
    );

    const config = JSON.parse(await cli('inspect', '-f', '{{json .Config}}', 'three')) as {
      Env: string[];
      Cmd: string[];
      Entrypoint: string[] | null;
      Labels: Record<string, string>;
      Image: string;
    };
    assert.deepEqual(config.Cmd, ['sh', '-c', 'exit 3']);
    assert.equal(config.Entrypoint, null);
    assert.deepEqual(config.Labels, { team: 'web' });
    // Docker's Config.Env: the image's variables, then the container's.
    const [image] = JSON.parse(await cli('image', 'inspect', t.image)) as Array<{ config: { env: string[] } }>;
    assert.deepEqual(config.Env, [...image.config.env, 'GREETING=hi']);
    assert.equal(await cli('inspect', '-f', '{{range .Config.Env}}{{.}};{{end}}', 'three'), config.Env.map((e) => `${e};`).join('') + '\n');
    assert.equal(
      await cli('inspect', '-f', '{{index .Config.Labels "team"}} {{.Config.Labels.team}} {{.HostConfig.RestartPolicy.Name}}', 'three'),
      'web web no\n',
    );
    assert.equal(await cli('inspect', '-f', '{{.State.Health}} {{len .Mounts}} {{.RestartCount}}', 'three'), '<nil> 0 0\n');
  });

  it('inspect --format on a running container: .State.Pid, .NetworkSettings and several objects, one line each', async () => {
    await t.runDetached('--name', 'up', t.image, 'sleep', '300');
    const [gantry] = JSON.parse(await cli('inspect', '--json', 'up')) as Array<{
      pid: number;
      networks: Array<{ network: string; ipAddress: string }>;
    }>;
    const bridge = gantry.networks.find((n) => n.network === 'bridge');
    assert.ok(bridge?.ipAddress, JSON.stringify(gantry.networks));
    assert.equal(
      await cli(
        'inspect',
        '-f',
        '{{.State.Status}} {{.State.Running}} {{.State.Pid}} {{.NetworkSettings.IPAddress}} {{.NetworkSettings.Networks.bridge.IPAddress}}',
        'up',
      ),
      `running true ${gantry.pid} ${bridge.ipAddress} ${bridge.ipAddress}\n`,
    );
    assert.equal(
      await cli('inspect', '-f', '{{range $name, $n := .NetworkSettings.Networks}}{{$name}}={{$n.IPAddress}}{{end}}', 'up'),
      `bridge=${bridge.ipAddress}\n`,
    );
    // Several objects of different kinds: one output line each, in order.
    const lines = (await cli('inspect', '-f', '{{.Id}}', 'up', t.image)).split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^[0-9a-f]{64}$/);
    assert.match(lines[1], /^sha256:[0-9a-f]{64}$/);
  });

  it('inspect --json prints the same records as plain inspect; --format json the Docker-shaped ones', async () => {
    await t.runDetached('--name', 'js', t.image, 'sleep', '300');
    const plain = JSON.parse(await cli('inspect', 'js')) as Array<{ id: string; name: string }>;
    const json = JSON.parse(await cli('inspect', '--json', 'js')) as Array<{ id: string; name: string }>;
    assert.equal(json.length, 1);
    assert.equal(json[0].id, plain[0].id);
    assert.equal(json[0].name, 'js');
    const docker = JSON.parse(await cli('inspect', '--format', 'json', 'js')) as Array<{
      Id: string;
      Name: string;
      State: { Status: string };
    }>;
    assert.deepEqual([docker[0].Id, docker[0].Name, docker[0].State.Status], [plain[0].id, '/js', 'running']);
  });

  it("image and network inspect --format: Docker's .Id, .RepoTags, .RootFS.Layers, .Os; .Name, .Driver, .IPAM", async () => {
    const [img] = JSON.parse(await cli('image', 'inspect', t.image)) as Array<{ image: { id: string }; diffIds: string[] }>;
    const out = await cli(
      'image',
      'inspect',
      '-f',
      '{{.Id}} {{json .RepoTags}} {{.Os}} {{len .RootFS.Layers}} {{index .RootFS.Layers 0}}',
      t.image,
    );
    assert.equal(out, `${img.image.id} ${JSON.stringify([t.image])} linux ${img.diffIds.length} ${img.diffIds[0]}\n`);
    const [net] = JSON.parse(await cli('network', 'inspect', 'bridge')) as Array<{ id: string; subnet: string }>;
    assert.equal(
      await cli('network', 'inspect', '-f', '{{.Name}} {{.Id}} {{.Driver}} {{.Scope}} {{range .IPAM.Config}}{{.Subnet}}{{end}}', 'bridge'),
      `bridge ${net.id} bridge local ${net.subnet}\n`,
    );
    assert.equal(await cli('inspect', '--type', 'network', '-f', '{{.Name}}', 'bridge'), 'bridge\n');
  });

  it("ps --format '{{.Names}} {{.Status}}', a table header, --format json one object per line", async () => {
    await t.runDetached('--name', 'alpha', '--label', 'tier=front', t.image, 'sleep', '300');
    const exited = await t.daemon.cli(['run', '--name', 'beta', t.image, 'sh', '-c', 'exit 3']);
    assert.equal(exited.code, 3);
    assert.match(await cli('ps', '--format', '{{.Names}} {{.Status}}'), /^alpha Up (Less than a second|\d+ seconds?)\n$/);
    const all = (await cli('ps', '-a', '--format', '{{.Names}} {{.Status}} {{.State}}')).trimEnd().split('\n').sort();
    assert.equal(all.length, 2);
    assert.match(all[0], /^alpha Up .* running$/);
    assert.match(all[1], /^beta Exited \(3\) .* ago exited$/);
    assert.equal(
      await cli('ps', '--format', '{{.Label "tier"}} {{.Labels}} {{.Networks}} {{.Image}}'),
      `front tier=front bridge ${t.image}\n`,
    );

    const table = (await cli('ps', '-a', '--format', 'table {{.Names}}\\t{{.Status}}')).split('\n');
    assert.match(table[0], /^NAMES +STATUS$/);
    assert.equal(
      table[1].indexOf('Up') === -1 ? table[1].indexOf('Exited') : table[1].indexOf('Up'),
      table[0].indexOf('STATUS'),
      'aligned under STATUS',
    );
    const dflt = (await cli('ps', '--format', 'table')).split('\n');
    assert.match(dflt[0], /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$/);

    const json = (await cli('ps', '-a', '--format', 'json'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    assert.equal(json.length, 2);
    const alpha = json.find((r) => r.Names === 'alpha');
    assert.ok(alpha, JSON.stringify(json));
    assert.deepEqual(Object.keys(alpha).sort(), [
      'Command',
      'CreatedAt',
      'ID',
      'Image',
      'Labels',
      'LocalVolumes',
      'Mounts',
      'Names',
      'Networks',
      'Ports',
      'RunningFor',
      'Size',
      'State',
      'Status',
    ]);
    assert.equal(alpha.Command, '"sleep 300"');
    assert.equal(alpha.State, 'running');
    assert.match(alpha.ID, /^[0-9a-f]{12}$/);
  });

  it("images --format '{{.Repository}}:{{.Tag}}', a table header, json", async () => {
    const lines = (await cli('images', '--format', '{{.Repository}}:{{.Tag}}')).split('\n');
    assert.ok(lines.includes(t.image), lines.join('|'));
    const table = (await cli('images', '--format', 'table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}')).split('\n');
    assert.match(table[0], /^REPOSITORY +TAG +IMAGE ID$/);
    const json = (await cli('images', '--format', 'json'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    const mine = json.find((r) => `${r.Repository}:${r.Tag}` === t.image);
    assert.ok(mine, JSON.stringify(json));
    assert.match(mine.ID, /^[0-9a-f]{12}$/);
    assert.match(mine.Digest, /^sha256:[0-9a-f]{64}$/);
    assert.match(mine.CreatedSince, / ago$|^N\/A$/);
  });

  it('a bad template exits 2 naming the field (or the position of a syntax error), before printing anything', async () => {
    await t.runDetached('--name', 'bad', t.image, 'sleep', '300');
    for (const args of [
      ['inspect', '--format', '{{.State.Nope}}', 'bad'],
      ['ps', '--format', '{{.Names}} {{.Nope}}'],
      ['images', '--format', 'table {{.Nope}}'],
      ['network', 'ls', '--format', '{{.Nope}}'],
    ]) {
      const r = await t.daemon.cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^gantry: template: :1:\d+: executing "" at <\.(State\.)?Nope>: can't evaluate field Nope\n$/);
    }
    const syntax = await t.daemon.cli(['ps', '--format', '{{.Names']);
    assert.equal(syntax.code, 2);
    assert.match(syntax.stderr, /^gantry: template: :1:1: unclosed action\n$/);
  });
});
