import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isInvalidArgument } from '../../../../runtime/errdefs/errdefs';
import { writeEtcFiles } from '../../../../runtime/oci/specgen/etcfiles';
import { makeTempDir, suiteCleanup } from '../../../helpers/tmp';

const read = (p: string) => fs.promises.readFile(p, 'utf8');

describe('oci/specgen/etcfiles', () => {
  const cleanup = suiteCleanup();
  let dir: string;
  before(async () => {
    dir = await makeTempDir('gt-etc', cleanup);
  });

  it('network none: localhost plus the hostname, no name servers', async () => {
    const out = path.join(dir, 'none', 'etc');
    const paths = await writeEtcFiles(out, { hostname: 'web-1', network: 'none' });
    assert.deepEqual(paths, {
      hostname: path.join(out, 'hostname'),
      hosts: path.join(out, 'hosts'),
      resolvConf: path.join(out, 'resolv.conf'),
    });
    assert.equal(await read(paths.hostname), 'web-1\n');
    const hosts = (await read(paths.hosts)).split('\n');
    assert.ok(hosts.includes('127.0.0.1\tlocalhost'));
    assert.ok(hosts.includes('::1\tlocalhost ip6-localhost ip6-loopback'));
    assert.ok(hosts.includes('127.0.0.1\tweb-1'));
    const resolv = await read(paths.resolvConf);
    assert.ok(resolv.startsWith('#'));
    assert.ok(!/nameserver/.test(resolv));
  });

  it("network host: copies of the host's files", async () => {
    const fakeHost = path.join(dir, 'hostfiles');
    await fs.promises.mkdir(fakeHost);
    await fs.promises.writeFile(path.join(fakeHost, 'hosts'), '127.0.0.1 localhost\n10.0.0.5 db\n');
    await fs.promises.writeFile(path.join(fakeHost, 'resolv.conf'), 'nameserver 192.0.2.53\nsearch example.com\n');
    const paths = await writeEtcFiles(path.join(dir, 'host'), {
      hostname: 'myhost',
      network: 'host',
      hostHostsPath: path.join(fakeHost, 'hosts'),
      hostResolvConfPath: path.join(fakeHost, 'resolv.conf'),
    });
    assert.equal(await read(paths.hosts), '127.0.0.1 localhost\n10.0.0.5 db\n');
    assert.equal(await read(paths.resolvConf), 'nameserver 192.0.2.53\nsearch example.com\n');
    assert.equal(await read(paths.hostname), 'myhost\n');
  });

  it('network host with the real host files', async () => {
    const paths = await writeEtcFiles(path.join(dir, 'real'), { hostname: 'h', network: 'host' });
    assert.equal(await read(paths.hosts), await read('/etc/hosts'));
    assert.equal(await read(paths.resolvConf), await read('/etc/resolv.conf'));
  });

  it('network host without host files falls back to the defaults', async () => {
    const paths = await writeEtcFiles(path.join(dir, 'missing'), {
      hostname: 'h',
      network: 'host',
      hostHostsPath: path.join(dir, 'nope/hosts'),
      hostResolvConfPath: path.join(dir, 'nope/resolv.conf'),
    });
    assert.ok((await read(paths.hosts)).includes('127.0.0.1\tlocalhost'));
    assert.ok((await read(paths.resolvConf)).startsWith('#'));
  });

  it('rewriting is idempotent and leaves no temp files', async () => {
    const out = path.join(dir, 'again');
    await writeEtcFiles(out, { hostname: 'one', network: 'none' });
    const paths = await writeEtcFiles(out, { hostname: 'two', network: 'none' });
    assert.equal(await read(paths.hostname), 'two\n');
    assert.deepEqual((await fs.promises.readdir(out)).sort(), ['hostname', 'hosts', 'resolv.conf']);
  });

  it('refuses a hostname that would inject lines into hosts', async () => {
    await assert.rejects(writeEtcFiles(path.join(dir, 'bad'), { hostname: 'x\n10.0.0.1 bank.example', network: 'none' }), (e: unknown) =>
      isInvalidArgument(e),
    );
  });
});
