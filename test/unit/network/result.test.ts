import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import { CniPluginError, invokePlugin, missingPluginError } from '../../../runtime/network/cni/plugin';
import { describeError, parseError, parseResult, summarize } from '../../../runtime/network/cni/result';

// What the bridge plugin v1.1.1 prints for an ADD.
const BRIDGE_RESULT = {
  cniVersion: '1.0.0',
  interfaces: [
    { name: 'gtx0', mac: 'c6:ab:e5:9a:cf:8e' },
    { name: 'veth010d68e0', mac: '1a:a4:b1:1a:e2:77' },
    { name: 'eth0', mac: 'ba:f7:b2:d4:b0:ec', sandbox: '/run/gantry/netns/abc' },
  ],
  ips: [{ interface: 2, address: '10.231.7.2/24', gateway: '10.231.7.1' }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: {},
};

describe('network/cni result and errors', () => {
  it('parses a result and summarizes the container interface', () => {
    const r = parseResult(JSON.stringify(BRIDGE_RESULT));
    assert.equal(r.interfaces.length, 3);
    assert.deepEqual(r.routes, [{ dst: '0.0.0.0/0' }]);
    assert.deepEqual(r.dns, {});
    assert.deepEqual(summarize(r, 'eth0'), {
      interface: 'eth0',
      mac: 'ba:f7:b2:d4:b0:ec',
      addresses: ['10.231.7.2/24'],
      gateway: '10.231.7.1',
    });
    // 0.4.0 results carry ips[].version; it is ignored.
    const old = parseResult(JSON.stringify({ cniVersion: '0.4.0', ips: [{ version: '4', address: '10.0.0.2/8' }] }));
    assert.deepEqual(summarize(old, 'eth0'), { interface: 'eth0', mac: '', addresses: ['10.0.0.2/8'], gateway: '' });
  });

  it('refuses output that is not a result, saying why', () => {
    assert.throws(() => parseResult(''), /not JSON\): \(empty output\)/);
    assert.throws(() => parseResult('{"ips":[{"address":"10.0.0.2"}]}'), /not in CIDR notation/);
    assert.throws(() => parseResult('{"interfaces":{}}'), /interfaces is not an array/);
    assert.throws(() => parseResult('{"ips":[{"address":5}]}'), /ips\[0\].address is not a string/);
  });

  it('parses error JSON with the well-known codes', () => {
    const e = parseError('{"cniVersion":"1.0.0","code":7,"msg":"invalid config","details":"no bridge name"}');
    assert.deepEqual(e, { cniVersion: '1.0.0', code: 7, msg: 'invalid config', details: 'no bridge name' });
    assert.equal(describeError(e), 'invalid config: no bridge name (code 7, invalid network config)');
    assert.equal(describeError({ code: 999, msg: 'failed to set bridge addr' }), 'failed to set bridge addr (code 999)');
    assert.equal(parseError('not json'), undefined);
    assert.equal(parseError('{"msg":"no code"}'), undefined);
  });

  describe('invokePlugin', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-cni-'));
      // A stand-in plugin: prints its CNI_* environment and stdin as a result's dns.
      fs.writeFileSync(
        path.join(dir, 'echo'),
        [
          '#!/bin/sh',
          'in=$(cat)',
          'printf \'{"cniVersion":"1.0.0","dns":{"options":["%s","%s","%s","%s","%s","%s"],"domain":%s}}\' "$CNI_COMMAND" "$CNI_CONTAINERID" "$CNI_NETNS" "$CNI_IFNAME" "$CNI_ARGS" "$CNI_PATH" "$(printf %s "$in" | od -An -tx1 | tr -d " \\n" | sed \'s/^/"/;s/$/"/\')"',
        ].join('\n'),
        { mode: 0o755 },
      );
      fs.writeFileSync(
        path.join(dir, 'fails'),
        '#!/bin/sh\necho \'{"cniVersion":"1.0.0","code":11,"msg":"busy","details":"xtables lock"}\'\nexit 1\n',
        { mode: 0o755 },
      );
      fs.writeFileSync(path.join(dir, 'crashes'), '#!/bin/sh\necho panic: oops >&2\nexit 2\n', { mode: 0o755 });
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const call = (type: string, command: 'ADD' | 'DEL' = 'ADD') => ({
      command,
      type,
      network: 'net1',
      containerId: 'c1',
      netns: '/run/x/netns/c1',
      ifname: 'eth0',
      args: [['IgnoreUnknown', '1'] as const],
      binDirs: ['/nonexistent', dir],
      config: { cniVersion: '1.0.0', name: 'net1', type },
    });

    it('passes the CNI_* environment and the config on stdin', async () => {
      const r = await invokePlugin(call('echo'));
      assert.deepEqual(r!.dns.options, ['ADD', 'c1', '/run/x/netns/c1', 'eth0', 'IgnoreUnknown=1', `/nonexistent:${dir}`]);
      const stdin = Buffer.from(r!.dns.domain!, 'hex').toString('utf8');
      assert.deepEqual(JSON.parse(stdin), { cniVersion: '1.0.0', name: 'net1', type: 'echo' });
      assert.equal(await invokePlugin(call('echo', 'DEL')), undefined);
    });

    it('turns error JSON and crashes into errors naming plugin, network and command', async () => {
      await assert.rejects(
        invokePlugin(call('fails')),
        (e: unknown) =>
          e instanceof CniPluginError &&
          e.kind === 'Unavailable' &&
          e.plugin === 'fails' &&
          e.body?.details === 'xtables lock' &&
          e.message === 'network "net1": CNI plugin "fails" ADD failed: busy: xtables lock (code 11, try again later)',
      );
      await assert.rejects(invokePlugin(call('crashes')), /network "net1": CNI plugin "crashes" ADD failed \(exit 2\): panic: oops/);
    });

    it('names the missing binary and the package to install', async () => {
      await assert.rejects(
        invokePlugin(call('nosuch')),
        (e: unknown) =>
          isGantryError(e) &&
          e.kind === 'FailedPrecondition' &&
          e.message === missingPluginError('nosuch', ['/nonexistent', dir], 'net1').message &&
          /CNI plugin "nosuch" not found in \/nonexistent, .*install the Debian package containernetworking-plugins/.test(e.message),
      );
    });
  });
});
