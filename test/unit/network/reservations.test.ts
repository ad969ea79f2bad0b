import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import { PortReservations, bindProbe } from '../../../runtime/network/ports/reservations';
import { parsePublish } from '../../../runtime/network/ports/publish';

describe('network/ports/reservations', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-ports-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  // The bind check is faked here so the test owns which ports look taken; the
  // real one is exercised below and in test/integration/network/.
  const busy = new Set<number>();
  const fakeProbe = async (_ip: string, port: number) => !busy.has(port);

  it("reserves, persists, refuses another container's port and releases", async () => {
    const file = path.join(dir, 'ports.json');
    const table = new PortReservations(file, fakeProbe);
    await table.load();
    const got = await table.reserve('c1', [...parsePublish('127.0.0.1:18080:80'), ...parsePublish('18053:53/udp')]);
    assert.deepEqual(got, [
      { hostIp: '127.0.0.1', hostPort: 18080, containerPort: 80, protocol: 'tcp' },
      { hostIp: '', hostPort: 18053, containerPort: 53, protocol: 'udp' },
    ]);
    const again = new PortReservations(file, fakeProbe);
    await again.load();
    assert.deepEqual(again.forContainer('c1'), got, 'survives a restart');
    // Every address overlaps 127.0.0.1; TCP 18053 is free (only UDP is taken).
    await assert.rejects(
      again.reserve('c2', parsePublish('18080:80')),
      (e: unknown) =>
        isGantryError(e) &&
        e.kind === 'Conflict' &&
        e.message === 'cannot publish 0.0.0.0:18080->80/tcp: host port 18080/tcp is already published by container c1',
    );
    assert.deepEqual(await again.reserve('c2', parsePublish('127.0.0.2:18081:80')), [
      { hostIp: '127.0.0.2', hostPort: 18081, containerPort: 80, protocol: 'tcp' },
    ]);
    assert.deepEqual(await again.reserve('c3', parsePublish('18053:53')), [
      { hostIp: '', hostPort: 18053, containerPort: 53, protocol: 'tcp' },
    ]);
    // Idempotent for the holder.
    assert.deepEqual(await again.reserve('c1', parsePublish('127.0.0.1:18080:80')), [got[0]]);
    await again.release('c1');
    assert.deepEqual(again.forContainer('c1'), []);
    assert.deepEqual(await again.reserve('c2', parsePublish('18080:80')), [
      { hostIp: '', hostPort: 18080, containerPort: 80, protocol: 'tcp' },
    ]);
  });

  it('is all or nothing, and a range takes its first free port', async () => {
    const table = new PortReservations(path.join(dir, 'ports.json'), fakeProbe);
    busy.add(18101);
    try {
      await assert.rejects(
        table.reserve('c1', [...parsePublish('18100:80'), ...parsePublish('18101:81')]),
        (e: unknown) =>
          isGantryError(e) && e.kind === 'Conflict' && /host port 18101\/tcp is in use by another process on the host/.test(e.message),
      );
      assert.deepEqual(table.list(), []);
      assert.deepEqual(await table.reserve('c1', parsePublish('18100-18102:80')), [
        { hostIp: '', hostPort: 18100, containerPort: 80, protocol: 'tcp' },
      ]);
      assert.deepEqual((await table.reserve('c2', parsePublish('18100-18102:80')))[0].hostPort, 18102);
      await assert.rejects(table.reserve('c3', parsePublish('18100-18102:80')), /host port 18100-18102\/tcp/);
    } finally {
      busy.clear();
    }
  });

  it('picks distinct free host ports for -p CONTAINERPORT, and the real bind check sees a listener', async () => {
    const table = new PortReservations(path.join(dir, 'ports.json'));
    const got = await table.reserve('c1', parsePublish('127.0.0.1::80-81'));
    assert.equal(got.length, 2);
    assert.notEqual(got[0].hostPort, got[1].hostPort);
    assert.ok(got.every((m) => m.hostPort > 0));
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      assert.equal(await bindProbe('127.0.0.1', port, 'tcp'), false);
      assert.equal(await bindProbe('', port, 'tcp'), false, 'every address includes 127.0.0.1');
      assert.equal(await bindProbe('127.0.0.1', port, 'udp'), true);
      await assert.rejects(table.reserve('c2', parsePublish(`${port}:80`)), /in use by another process/);
    } finally {
      server.close();
    }
  });
});
