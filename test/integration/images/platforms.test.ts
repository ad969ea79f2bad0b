// Images.Platforms: what an index offers, asked of the registry without pulling.
import * as assert from 'node:assert/strict';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { pushBusybox, pushMultiArch } from '../../helpers/fixtures';
import { startRegistry, type Registry } from '../../helpers/registry';
import { suiteCleanup } from '../../helpers/tmp';

describe('Images.Platforms', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();
  let registry: Registry;
  let daemon: TestDaemon;

  before(async () => {
    registry = await startRegistry({ cleanup });
    daemon = await startDaemon(cleanup);
  });

  it('lists the platforms of an OCI index and of a Docker manifest list, and stores nothing', async () => {
    const client = daemon.client();
    cleanup.defer(() => client.close());
    for (const format of ['oci', 'v2s2'] as const) {
      const pushed = await pushMultiArch(registry, `multi/${format}:latest`, { format });
      const offered = await client.images.platforms(pushed.ref);
      assert.equal(offered.target?.digest, pushed.manifestDigest);
      assert.deepEqual(
        offered.platforms.map((p) => `${p.os}/${p.architecture}`),
        ['linux/amd64', 'linux/arm64'],
      );
      assert.equal(offered.defaultPlatform, 'linux/amd64');
    }
    assert.deepEqual(await client.images.list(), []);
  });

  it('is empty for a single-platform image, and NotFound for an unknown tag', async () => {
    const client = daemon.client();
    cleanup.defer(() => client.close());
    const single = await pushBusybox(registry, 'single/busybox:latest', { format: 'oci' });
    assert.deepEqual((await client.images.platforms(single.ref)).platforms, []);
    await assert.rejects(client.images.platforms(`${registry.host}/single/busybox:nope`), { kind: 'NotFound' });
  });
});
