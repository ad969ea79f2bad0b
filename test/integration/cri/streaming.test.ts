// The CRI streaming server against real containers (runc, conmon, CNI, a
// registry's busybox), reached as Kubernetes clients reach the kubelet's:
// Exec, Attach and PortForward URLs from the CRI socket, then SPDY/3.1
// (spdy-transport as the client, client-go's streams) and WebSocket (ws,
// @kubernetes/client-node's channels) — test/helpers/streamClients.ts.
// Exec with and without a TTY (output, stderr apart, the exit code on the
// error stream, stdin through `cat`, a resize seen by `stty size`), attach
// to a container reading its stdin, port-forward to busybox httpd in the pod
// (IPv4 and IPv6 localhost), the SPDY tunnel over WebSocket (kubectl ≥
// 1.30's port-forward), the base64 WebSocket protocols, spent and unknown
// tokens, a client that goes away mid-exec, and a forward whose client never
// reads (gantryd's memory stays put, others go on). docs/cri.md, "Streaming".
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { failure, startCriDaemon, type CriClient } from '../../helpers/criClient';
import { pushBusybox } from '../../helpers/fixtures';
import { startRegistry } from '../../helpers/registry';
import { readMem } from '../../../bench/lib/procmem';
import {
  Refused,
  spdyCommand,
  spdyPortForward,
  wsCommand,
  wsPortForward,
  wsTunnelPortForward,
  type CommandClient,
} from '../../helpers/streamClients';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { waitFor } from '../../helpers/waitFor';

const statusOf = async (client: CommandClient) =>
  JSON.parse(await client.error) as { status: string; reason?: string; details?: { causes: { reason: string; message: string }[] } };

const HTTP_GET = 'GET / HTTP/1.0\r\nHost: pod\r\n\r\n';

/** More than gantryd may hold for a client that does not read (its mark, the kernel's buffers) by far. */
const FLOOD = 256 * 1024 * 1024;

describe('CRI streaming: exec, attach and port-forward through the URLs', function () {
  this.timeout(240_000);
  const cleanup = suiteCleanup();
  let cri: CriClient;
  let podSandboxId: string;
  let shell: string;
  let reader: string;
  let ipv6 = false;
  let gantrydPid: number;

  before(async () => {
    const registry = await startRegistry({ cleanup });
    const pushed = await pushBusybox(registry, 'cri/streaming:1', { format: 'oci' });
    const logDir = await makeTempDir('cristream', cleanup);
    const started = await startCriDaemon(cleanup, logDir, 'gtk', 240);
    cri = started.cri;
    gantrydPid = started.daemon.process.pid;
    const image = (await cri.images.pullImage({ image: { image: pushed.ref } })).imageRef;
    const config = {
      metadata: { name: 'streams', namespace: 'default', uid: randomBytes(6).toString('hex'), attempt: 0 },
      hostname: 'streams',
      logDirectory: path.join(logDir, 'streams'),
    };
    ({ podSandboxId } = await cri.runtime.runPodSandbox({ config }));
    cleanup.defer(async () => {
      await cri.runtime.stopPodSandbox({ podSandboxId });
      await cri.runtime.removePodSandbox({ podSandboxId });
    });
    const start = async (name: string, script: string, extra: Record<string, unknown> = {}) => {
      const { containerId } = await cri.runtime.createContainer({
        podSandboxId,
        sandboxConfig: config,
        config: {
          metadata: { name, attempt: 0 },
          image: { image },
          command: ['sh', '-c'],
          args: [script],
          logPath: `${name}.log`,
          ...extra,
        },
      });
      await cri.runtime.startContainer({ containerId });
      return containerId;
    };
    // httpd on 8080 (all addresses) and, where the pod has IPv6 loopback, on [::1]:8081 only.
    shell = await start(
      'shell',
      'mkdir -p /www && echo hello-stream > /www/index.html && httpd -p 8080 -h /www && (httpd -p [::1]:8081 -h /www || true) && exec sleep 3600',
    );
    reader = await start('reader', 'while read line; do echo "got $line"; done', { stdin: true });
    // FLOOD bytes to whoever connects to 9000 (one connection), for the client that does not read.
    await start('flood', `head -c ${FLOOD} /dev/zero | nc -l -p 9000`);
    await waitFor(
      async () =>
        (await cri.runtime.execSync({ containerId: shell, cmd: ['wget', '-qO-', 'http://127.0.0.1:8080/'], timeout: 0n })).exitCode === 0 ||
        undefined,
      {
        what: 'httpd answering in the pod',
        intervalMs: 100,
      },
    );
    ipv6 = (await cri.runtime.execSync({ containerId: shell, cmd: ['wget', '-qO-', 'http://[::1]:8081/'], timeout: 0n })).exitCode === 0;
    // A new network namespace has IPv6 loopback unless the host disables IPv6 by default: then the IPv6 case must run.
    const v6Default =
      fs.existsSync('/proc/sys/net/ipv6/conf/default/disable_ipv6') &&
      fs.readFileSync('/proc/sys/net/ipv6/conf/default/disable_ipv6', 'utf8').trim() === '0';
    assert.equal(ipv6, v6Default, 'httpd on [::1]:8081 in the pod answers exactly where the host gives namespaces IPv6');
  });

  const execUrl = async (cmd: string[], o: { tty?: boolean; stdin?: boolean } = {}) =>
    (await cri.runtime.exec({ containerId: shell, cmd, tty: !!o.tty, stdin: !!o.stdin, stdout: true, stderr: !o.tty })).url;

  it('checks requests: a running container, some stream, no stderr with a TTY, a known sandbox; the URL is local', async () => {
    const url = await execUrl(['true']);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]+$/);
    const ttyErr = await failure(cri.runtime.exec({ containerId: shell, cmd: ['true'], tty: true, stdout: true, stderr: true }));
    assert.equal(ttyErr.code, status.INVALID_ARGUMENT);
    assert.match(ttyErr.details, /tty and stderr/);
    assert.equal((await failure(cri.runtime.attach({ containerId: reader }))).code, status.INVALID_ARGUMENT);
    assert.equal((await failure(cri.runtime.exec({ containerId: 'nope', cmd: ['true'], stdout: true }))).code, status.NOT_FOUND);
    assert.equal((await failure(cri.runtime.portForward({ podSandboxId: 'nope', port: [80] }))).code, status.NOT_FOUND);
  });

  for (const [name, connect] of [
    [
      'SPDY/3.1 v4.channel.k8s.io',
      (url: string, o: { stdin?: boolean; tty?: boolean }) => spdyCommand(url, { stdout: true, stderr: !o.tty, ...o }),
    ],
    ['WebSocket v5.channel.k8s.io', (url: string) => wsCommand(url)],
  ] as const) {
    describe(name, () => {
      it('exec: stdout and stderr apart, the exit code in the error stream as NonZeroExitCode', async () => {
        const c = await connect(await execUrl(['sh', '-c', 'echo out; echo err >&2; exit 3']), {});
        assert.equal(await c.stdout.done, 'out\n');
        assert.equal(await c.stderr.done, 'err\n');
        const s = await statusOf(c);
        assert.equal(s.status, 'Failure');
        assert.equal(s.reason, 'NonZeroExitCode');
        assert.deepEqual(s.details?.causes, [{ reason: 'ExitCode', message: '3' }]);
        const ok = await connect(await execUrl(['hostname']), {});
        assert.equal(await ok.stdout.done, 'streams\n');
        assert.equal((await statusOf(ok)).status, 'Success');
      });

      it('exec: 8 MiB of binary output arrive intact (sha256)', async () => {
        const made = await cri.runtime.execSync({
          containerId: shell,
          cmd: ['sh', '-c', 'head -c 8388608 /dev/urandom > /tmp/big && sha256sum /tmp/big'],
          timeout: 0n,
        });
        const want = made.stdout.toString().split(' ')[0];
        const c = await connect(await execUrl(['cat', '/tmp/big']), {});
        await c.stdout.done;
        assert.equal((await statusOf(c)).status, 'Success');
        assert.equal(createHash('sha256').update(Buffer.concat(c.stdout.chunks)).digest('hex'), want);
      });

      it('exec: stdin echoed by cat; closing stdin ends it', async () => {
        const c = await connect(await execUrl(['cat'], { stdin: true }), { stdin: true });
        c.write('hello cat\n');
        await c.stdout.waitFor('hello cat\n');
        c.endStdin();
        assert.equal((await statusOf(c)).status, 'Success');
        assert.equal(await c.stdout.done, 'hello cat\n');
      });

      it('exec with a TTY: a resize seen by stty size, the exit code of the shell', async () => {
        const c = await connect(await execUrl(['sh'], { tty: true, stdin: true }), { tty: true, stdin: true });
        c.resize(100, 40);
        c.write('stty size; exit 5\n');
        await c.stdout.waitFor('40 100');
        const s = await statusOf(c);
        assert.equal(s.reason, 'NonZeroExitCode');
        assert.equal(s.details?.causes[0].message, '5');
      });

      it("attach: the container's stdin and stdout", async () => {
        const url = (await cri.runtime.attach({ containerId: reader, stdin: true, stdout: true, stderr: true })).url;
        assert.match(url, /\/attach\//);
        const c = await connect(url, { stdin: true });
        const word = randomBytes(4).toString('hex');
        c.write(`${word}\n`);
        await c.stdout.waitFor(`got ${word}\n`);
        c.abandon();
      });
    });
  }

  it('WebSocket v4.channel.k8s.io when the client offers only it', async () => {
    const c = await wsCommand(await execUrl(['sh', '-c', 'exit 2']), ['v4.channel.k8s.io']);
    assert.equal(c.protocol, 'v4.channel.k8s.io');
    assert.equal((await statusOf(c)).details?.causes[0].message, '2');
  });

  it('port-forward over SPDY: httpd in the pod, two connections on one URL, a refused port on the error stream, IPv6 localhost', async () => {
    const pf = await spdyPortForward((await cri.runtime.portForward({ podSandboxId, port: [8080] })).url);
    assert.equal(pf.protocol, 'portforward.k8s.io');
    for (const c of [pf.forward(8080), pf.forward(8080)]) {
      c.write(HTTP_GET);
      assert.match(await c.data.done, /200 OK[\s\S]*hello-stream\n$/);
    }
    const refused = pf.forward(8099);
    assert.match(await refused.error, /error forwarding port 8099/);
    if (ipv6) {
      const v6 = pf.forward(8081);
      v6.write(HTTP_GET);
      assert.match(await v6.data.done, /hello-stream/);
    }
    pf.close();
  });

  it('port-forward over WebSocket: the port announced, then the bytes', async () => {
    const ports = ipv6 ? [8080, 8081] : [8080];
    const pf = await wsPortForward((await cri.runtime.portForward({ podSandboxId, port: ports })).url, ports);
    assert.equal(pf.announced.get(0), 8080);
    ports.forEach((_, i) => pf.write(i, HTTP_GET));
    for (const d of pf.data) await d.waitFor('hello-stream');
  });

  it('port-forward through the SPDY tunnel (SPDY/3.1+portforward.k8s.io over WebSocket, as kubectl ≥ 1.30): httpd in the pod', async () => {
    const pf = await wsTunnelPortForward((await cri.runtime.portForward({ podSandboxId, port: [8080] })).url);
    assert.equal(pf.protocol, 'SPDY/3.1+portforward.k8s.io');
    for (const c of [pf.forward(8080), pf.forward(8080)]) {
      c.write(HTTP_GET);
      assert.match(await c.data.done, /200 OK[\s\S]*hello-stream\n$/);
    }
    assert.match(await pf.forward(8099).error, /error forwarding port 8099/);
    pf.close();
  });

  it('the base64 WebSocket protocols: exec with stdin (v4.base64.channel.k8s.io), port-forward', async () => {
    const c = await wsCommand(await execUrl(['cat'], { stdin: true }), ['v4.base64.channel.k8s.io']);
    assert.equal(c.protocol, 'v4.base64.channel.k8s.io');
    c.write('base64 round trip\n');
    await c.stdout.waitFor('base64 round trip\n');
    c.abandon();
    const failed = await wsCommand(await execUrl(['sh', '-c', 'echo e >&2; exit 9']), ['base64.channel.k8s.io']);
    assert.equal(await failed.stderr.done, 'e\n');
    assert.match(await failed.error, /exit status 9/);
    const pf = await wsPortForward(
      (await cri.runtime.portForward({ podSandboxId, port: [8080] })).url,
      [8080],
      ['v4.base64.channel.k8s.io'],
    );
    assert.equal(pf.announced.get(0), 8080);
    pf.write(0, HTTP_GET);
    await pf.data[0].waitFor('hello-stream');
    pf.close();
  });

  it("a forward whose client does not read: gantryd's memory stays put, another forward and an exec go on, all arrives once it reads", async () => {
    const rss = async () => (await readMem(gantrydPid))!.rssKiB * 1024;
    const before = await rss();
    const pf = await wsPortForward((await cri.runtime.portForward({ podSandboxId, port: [9000] })).url, [9000]);
    const hung = pf.data[0];
    hung.keep = false;
    await waitFor(() => hung.bytes > 0, { what: "the flood's first bytes" });
    pf.pause();
    // Another forward and an exec while it hangs.
    const other = await spdyPortForward((await cri.runtime.portForward({ podSandboxId, port: [8080] })).url);
    const get = other.forward(8080);
    get.write(HTTP_GET);
    assert.match(await get.data.done, /hello-stream/);
    other.close();
    const exec = await wsCommand(await execUrl(['echo', 'exec goes on']));
    assert.equal(await exec.stdout.done, 'exec goes on\n');
    // gantryd's resident memory settles, far below what the pod has to send.
    let last = 0;
    let same = 0;
    const settled = await waitFor(
      async () => {
        const now = await rss();
        same = Math.abs(now - last) < 2 * 1024 * 1024 ? same + 1 : 0;
        last = now;
        return same >= 4 && now;
      },
      { what: "gantryd's memory settling", intervalMs: 100, describe: () => last },
    );
    assert.ok(
      settled - before < FLOOD / 4,
      `gantryd grew by ${Math.round((settled - before) / 1048576)} MiB while a client read nothing of ${FLOOD / 1048576} MiB`,
    );
    assert.ok(hung.bytes < FLOOD / 4, `${hung.bytes} bytes reached a paused client`);
    pf.resume();
    await pf.closed;
    assert.equal(hung.bytes, FLOOD);
  });

  it('a spent or unknown token is refused with 404', async () => {
    const url = await execUrl(['true']);
    await (
      await spdyCommand(url, { stdout: true, stderr: true })
    ).error;
    await assert.rejects(spdyCommand(url, { stdout: true }), (e) => e instanceof Refused && e.status === 404);
    await assert.rejects(wsCommand(url.replace(/[^/]+$/, 'x'.repeat(43))), (e) => e instanceof Refused && e.status === 404);
  });

  it('a client that goes away mid-exec: its stdin is closed, and another exec goes on', async () => {
    const marker = `/tmp/abandoned-${randomBytes(4).toString('hex')}`;
    const c = await spdyCommand(await execUrl(['sh', '-c', `cat; touch ${marker}`], { stdin: true }), {
      stdin: true,
      stdout: true,
      stderr: true,
    });
    c.write('first\n');
    await c.stdout.waitFor('first\n');
    c.abandon();
    const next = await wsCommand(await execUrl(['echo', 'second']));
    assert.equal(await next.stdout.done, 'second\n');
    await waitFor(
      async () =>
        (await cri.runtime.execSync({ containerId: shell, cmd: ['test', '-f', marker], timeout: 0n })).exitCode === 0 || undefined,
      {
        what: "the abandoned exec's cat seeing EOF",
        intervalMs: 100,
      },
    );
  });
});
