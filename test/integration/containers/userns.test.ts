// `gantry daemon --userns-remap default`: containers' root is the first
// subordinate ID of the `gantry` user, the image is unpacked with shifted
// owners into a snapshot tree of its own, and exec runs as root inside.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveUsernsRemap } from '../../../runtime/daemon/userns';
import type { IdMap } from '../../../runtime/oci/specgen/privileges';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { pushBusybox } from '../../helpers/fixtures';
import { startRegistry } from '../../helpers/registry';
import { suiteCleanup } from '../../helpers/tmp';
import { eventually, runAttached } from './harness';
import { fields } from './privilegesHelpers';

describe('containers: --userns-remap (daemon)', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let daemon: TestDaemon;
  let image: string;
  let map: IdMap;

  before(async () => {
    const registry = await startRegistry({ cleanup });
    await pushBusybox(registry, 'gantry-test/busybox:latest', { format: 'oci' });
    daemon = await startDaemon(cleanup, ['--userns-remap', 'default']);
    // The container's root (an unprivileged host uid) must be able to reach its bundle under the state dir.
    fs.chmodSync(path.dirname(daemon.state), 0o711);
    map = await resolveUsernsRemap('default');
    image = `${registry.host}/gantry-test/busybox:latest`;
    const client = daemon.client();
    cleanup.defer(() => client.close());
    for await (const _ of client.images.pull({ reference: image })) {
      // progress is not under test here
    }
  });

  it("maps the container's root to the first subordinate ID: uid_map of the process, id inside", async () => {
    const client = daemon.client();
    cleanup.defer(() => client.close());
    const container = await client.containers.create('', {
      image,
      cmd: ['sh', '-c', 'echo "ID=$(id -u):$(id -g)"; touch /made-by-root; stat -c "OWN=%u:%g" /made-by-root /bin/busybox; sleep 600'],
    });
    await client.containers.start(container.id);
    const running = await eventually('the container running', async () => {
      const d = await client.containers.inspect(container.id);
      return d.container?.pid ? d : undefined;
    });
    const pid = running.container!.pid;
    const uidMap = (await fs.promises.readFile(`/proc/${pid}/uid_map`, 'utf8')).trim().split(/\s+/).map(Number);
    const gidMap = (await fs.promises.readFile(`/proc/${pid}/gid_map`, 'utf8')).trim().split(/\s+/).map(Number);
    assert.deepEqual(uidMap, [0, map.uid, map.size]);
    assert.deepEqual(gidMap, [0, map.gid, map.size]);
    // The process's host credentials are the shifted ones.
    const status = await fs.promises.readFile(`/proc/${pid}/status`, 'utf8');
    assert.match(status, new RegExp(`^Uid:\\s+${map.uid}\\s`, 'm'));

    const out = await eventually('the first output', async () => {
      const lines: string[] = [];
      for await (const e of client.containers.logs(container.id)) lines.push(Buffer.from(e.data).toString());
      return lines.join('').includes('OWN=') ? lines.join('') : undefined;
    });
    const f = fields(out);
    assert.equal(f.get('ID'), '0:0');
    // Inside, the image's files (and what root makes) belong to root.
    assert.deepEqual(out.match(/^OWN=.*$/gm), ['OWN=0:0', 'OWN=0:0']);
    // On the host, the file root made belongs to the mapping's first IDs.
    const made = await fs.promises.stat(path.join(daemon.state, 'tasks', container.id, 'rootfs', 'made-by-root'));
    assert.deepEqual([made.uid, made.gid], [map.uid, map.gid]);

    // exec: root inside as well.
    const session = client.containers.exec({
      id: container.id,
      args: ['sh', '-c', 'echo "EXEC=$(id -u) $(cat /proc/self/uid_map | tr -s " " | sed "s/^ //")"'],
    });
    let execOut = '';
    for await (const m of session.responses()) if (m.kind?.$case === 'output') execOut += Buffer.from(m.kind.value.data).toString();
    assert.equal(fields(execOut).get('EXEC'), `0 0 ${map.uid} ${map.size}`);

    const details = await client.containers.inspect(container.id);
    assert.deepEqual(details.uidMappings, [{ containerId: 0, hostId: map.uid, size: map.size }]);
    assert.deepEqual(details.gidMappings, [{ containerId: 0, hostId: map.gid, size: map.size }]);
  });

  it('unpacks the image with shifted owners into a snapshot tree of the mapping', async () => {
    const tree = path.join(daemon.root, `snapshots-${map.uid}.${map.gid}`);
    assert.ok(fs.existsSync(tree), `${tree} exists`);
    assert.ok(!fs.existsSync(path.join(daemon.root, 'snapshots')) || fs.readdirSync(path.join(daemon.root, 'snapshots')).length === 0);
    // busybox's files are root's in the image: on disk they are the mapping's first IDs.
    const busyboxes: string[] = [];
    const walk = (dir: string, depth: number) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory() && depth < 8) walk(p, depth + 1);
        else if (e.name === 'busybox' && p.includes(`${path.sep}bin${path.sep}`)) busyboxes.push(p);
      }
    };
    walk(tree, 0);
    assert.ok(busyboxes.length > 0, 'found bin/busybox in the snapshot tree');
    for (const b of busyboxes) {
      const st = fs.lstatSync(b);
      assert.deepEqual([st.uid, st.gid], [map.uid, map.gid], b);
    }
  });

  it('an attached run works: root inside can write to / and owns what it makes', async () => {
    const client = daemon.client();
    cleanup.defer(() => client.close());
    const r = await runAttached(client, { image, cmd: ['sh', '-c', 'touch /probe && stat -c "%u:%g" /probe'] });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.trim(), '0:0');
  });

  it('refuses --privileged under the remapping, saying why', async () => {
    const client = daemon.client();
    cleanup.defer(() => client.close());
    await assert.rejects(
      client.containers.create('', { image, privileged: true, cmd: ['true'] }),
      /privileged mode is incompatible with the daemon's --userns-remap/,
    );
  });
});
