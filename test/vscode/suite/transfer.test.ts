// Issue 16's extension side in the real extension host: Push Image with its
// progress (the registry then has the tag), Save Image… then Load Image…
// (the dialogs answered through the commands' `{ uri, format }` arguments,
// as the other suites answer input boxes), and the Registries view: the
// logins of the daemon user's Docker config (run.ts gives the daemon and
// this host one DOCKER_CONFIG listing the test registry), expanding into the
// registry's repositories and tags; Log In…/Log Out, Copy Reference and
// Delete Tag… on them.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RuntimeClient } from '../../../runtime/client/client';
import type { ImageSummary, PushedImage } from '../../../runtime/api/gen/gantry/v1/images';
import type { PushProgressSnapshot } from '../../../src/commands/images/pushProgress';
import type { RegistryTreeNode } from '../../../src/views/registries/registryNodes';
import type { RegistriesTreeProvider } from '../../../src/views/registries/registriesTreeProvider';
import type { GantryApi } from '../../../src/extension';
import { startRegistry } from '../../helpers/registry';
import { Cleanup } from '../../helpers/tmp';
import { expectFailure } from './commandFailures';
import { labelOf, waitFor } from './containersHarness';

describe('Push, Save/Load and the Registries view (code-server)', function () {
  this.timeout(180_000);
  const socket = process.env.GANTRY_TEST_SOCKET!;
  const registry = process.env.GANTRY_TEST_REGISTRY!;
  const dockerConfig = process.env.GANTRY_TEST_DOCKER_CONFIG;
  const fixtures = JSON.parse(process.env.GANTRY_TEST_IMAGES ?? '{}') as Record<string, { ref: string; manifestDigest: string }>;
  let api: GantryApi;
  let client: RuntimeClient;
  let provider: RegistriesTreeProvider;
  let tmp: string;

  const daemonNames = async () => (await client.images.list()).map((i) => i.name);
  const labels = async (node?: RegistryTreeNode) => (await provider.getChildren(node)).map((n) => labelOf(provider.getTreeItem(n)));
  let shown: string[] = [];
  const child = async (node: RegistryTreeNode | undefined, label: string) =>
    waitFor(
      `"${label}" in the Registries view`,
      async () => {
        api.views.registries.refresh('manual');
        const children = await provider.getChildren(node);
        shown = children.map((n) => labelOf(provider.getTreeItem(n)));
        return children.find((n) => labelOf(provider.getTreeItem(n)) === label);
      },
      () => JSON.stringify(shown),
    );

  before(async function () {
    if (!dockerConfig) this.skip(); // an outside daemon (GANTRY_TEST_SOCKET) has its own Docker config
    assert.ok(socket && registry && fixtures.oci, 'run through test/vscode/run.ts');
    const ext = vscode.extensions.getExtension<GantryApi>('gantry.gantry')!;
    api = await ext.activate();
    provider = api.views.registries;
    await waitFor(
      'a connection to the test daemon',
      async () => (api.connection.state === 'connected' && api.connection.socket === socket) || undefined,
      () => JSON.stringify(api.connection),
    );
    client = RuntimeClient.forSocket(socket);
    if (!(await daemonNames()).includes(fixtures.oci.ref)) {
      for await (const _ of client.images.pull({ reference: fixtures.oci.ref })) {
        /* progress is not tested here */
      }
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gxfer-'));
  });

  after(() => {
    client?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('Push Image pushes a tagged image with per-blob progress; the registry then has the tag', async () => {
    const name = `${registry}/gantry-test/pushed:v1`;
    await client.images.tag(fixtures.oci.ref, name);
    const seen: PushProgressSnapshot[] = [];
    const pushed = await vscode.commands.executeCommand<PushedImage[]>('gantry.images.push', name, {
      onProgress: (p: PushProgressSnapshot) => seen.push(p),
    });
    assert.deepEqual(
      pushed.map((p) => p.name),
      [name],
    );
    assert.equal(pushed[0].digest, fixtures.oci.manifestDigest);
    assert.ok(seen.length > 0, 'progress was reported');
    const last = seen[seen.length - 1];
    assert.ok(last.blobs >= 2 && last.complete === last.blobs, JSON.stringify(last));
    assert.deepEqual(await client.images.listTags(`${registry}/gantry-test/pushed`), ['v1']);
  });

  it('a push the registry refuses for want of credentials says so (offering Log In…); after Log In… it goes through', async () => {
    const cleanup = new Cleanup();
    try {
      const reg = await startRegistry({ auth: 'htpasswd', cleanup });
      const name = `${reg.host}/gantry-test/private:v1`;
      await client.images.tag(fixtures.oci.ref, name);
      const failure = await expectFailure(api, 'gantry.images.push', name);
      assert.match(failure.message, new RegExp(`^Could not push to ${reg.host.replace(/\./g, '\\.')}: the registry wants credentials`));
      const status = await vscode.commands.executeCommand<string>('gantry.registries.login', reg.host, reg.creds);
      assert.equal(status, 'Login Succeeded');
      const pushed = await vscode.commands.executeCommand<PushedImage[]>('gantry.images.push', name);
      assert.equal(pushed[0].digest, fixtures.oci.manifestDigest);
      assert.equal(await vscode.commands.executeCommand<boolean>('gantry.registries.logout', reg.host), true);
    } finally {
      await cleanup.runAll();
    }
  });

  it('Save Image… writes an archive that Load Image… brings back', async () => {
    const name = `${registry}/gantry-test/saved:v1`;
    await client.images.tag(fixtures.oci.ref, name);
    const uri = vscode.Uri.file(path.join(tmp, 'saved.tar'));
    const saved = await vscode.commands.executeCommand<vscode.Uri>('gantry.images.save', name, [name], { uri, format: 'oci' });
    assert.equal(saved.fsPath, uri.fsPath);
    const index = fs.readFileSync(uri.fsPath).toString('latin1');
    assert.match(index, /index\.json/, 'an OCI layout');
    assert.deepEqual(
      fs.readdirSync(tmp).filter((f) => f.includes('partial')),
      [],
      'no partial file left',
    );

    await client.images.remove(name);
    assert.ok(!(await daemonNames()).includes(name));
    const loaded = await vscode.commands.executeCommand<ImageSummary[]>('gantry.images.load', { uri });
    assert.deepEqual(
      loaded.map((i) => i.name),
      [name],
    );
    assert.ok((await daemonNames()).includes(name));
    await waitFor('the loaded image in the Images view', async () => (await api.views.images.images()).find((i) => i.name === name));
  });

  it('the Registries view lists the test registry, its repositories and their tags', async () => {
    const reg = await child(undefined, registry);
    assert.equal(reg.kind, 'registry');
    const repo = await child(reg, 'gantry-test/busybox');
    assert.equal(repo.kind, 'repository');
    assert.equal(provider.getTreeItem(repo).contextValue, 'registryRepository');
    assert.deepEqual((await labels(repo)).sort(), ['oci', 'v2s2']);
    const tag = (await provider.getChildren(repo)).find((n) => n.kind === 'tag')!;
    assert.equal(provider.getTreeItem(tag).contextValue, 'registryTag');
    const copied = await vscode.commands.executeCommand<string>('gantry.registries.copyReference', tag);
    assert.match(copied, new RegExp(`^${registry.replace(/\./g, '\\.')}/gantry-test/busybox:(oci|v2s2)$`));
    assert.equal(await vscode.env.clipboard.readText(), copied);
    const pulled = await vscode.commands.executeCommand<ImageSummary>('gantry.registries.pull', tag);
    assert.equal(pulled.name, copied, 'Pull on a tag pulls that reference');
  });

  it('Delete Tag… deletes a pushed tag from the registry', async () => {
    const name = `${registry}/gantry-test/doomed:v1`;
    await client.images.tag(fixtures.oci.ref, name);
    await vscode.commands.executeCommand('gantry.images.push', name);
    const reg = await child(undefined, registry);
    const repo = await child(reg, 'gantry-test/doomed');
    const tag = await child(repo, 'v1');
    const digest = await vscode.commands.executeCommand<string>('gantry.registries.deleteTag', tag, { confirm: false });
    assert.equal(digest, fixtures.oci.manifestDigest);
    assert.deepEqual(await client.images.listTags(`${registry}/gantry-test/doomed`), []);
  });

  it('Log In… stores the login where the view finds it; Log Out removes it', async () => {
    // Another name for the same loopback registry, so the test's own login stays.
    const other = registry.replace(/^127\.0\.0\.1/, 'localhost');
    const status = await vscode.commands.executeCommand<string>('gantry.registries.login', other, {
      username: 'tester',
      password: 'secret',
    });
    assert.equal(status, 'Login Succeeded');
    const config = JSON.parse(fs.readFileSync(path.join(dockerConfig!, 'config.json'), 'utf8'));
    assert.ok(config.auths[other].auth, JSON.stringify(config));
    const node = await child(undefined, other);
    assert.equal(provider.getTreeItem(node).description, 'tester');
    assert.equal(await vscode.commands.executeCommand<boolean>('gantry.registries.logout', node), true);
    await waitFor(`${other} gone from the view`, async () => {
      api.views.registries.refresh('manual');
      return !(await labels()).includes(other) || undefined;
    });
  });
});
