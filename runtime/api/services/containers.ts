/** gantry.v1.Containers over the container service and its stdio (logs, attach, exec, stats, top). */
import { privilegesToInspect } from './privilegesWire';
import { background, type Ctx } from '../../context';
import { invalidArgument } from '../../errdefs/errdefs';
import type { ContainerIO } from '../../containers/io';
import type { ContainerService, WaitCondition } from '../../containers/service';
import type { OutputFrame } from '../../tasks/frames';
import { lineBytes } from '../../tasks/logs/logs';
import {
  StdStream,
  type AttachRequest,
  type AttachResponse,
  type ContainersServer,
  type CriPodMember,
  type ExecRequest,
  type ExecResponse,
  type PortForwardRequest,
  type PortForwardResponse,
} from '../gen/gantry/v1/containers';
import type { HandlerAdapter } from '../server';
import { shortId } from '../../presentation';
import { effectiveSecurity, fromWireConfig, toSummary as summaryOf, toWireConfig, toWireHealth } from './containerWire';
import { joinedContainer, type Container } from '../../containers/containers';
import type { Attachment } from '../../network/index';
import { forwardPort } from './portForward';
import { mountPointsOf } from './volumeWire';
import type { PortForwarder } from '../../containers/portForward';

const STATS_INTERVAL_MS = 1000;
const WAIT_CONDITIONS: readonly WaitCondition[] = ['not-running', 'next-exit', 'removed'];

/** The container's attachment while it has one (containers/networking.ts); absent: no CNI networks. */
export type AttachmentOf = (id: string) => Attachment | undefined;
/** A CRI object's place in its pod (runtime/cri/podMember.ts); absent or undefined: not a CRI object. */
export type CriPodMemberOf = (c: Container) => CriPodMember | undefined;

export function containersService(
  adapt: HandlerAdapter,
  service: ContainerService,
  io: ContainerIO,
  networkOf?: AttachmentOf,
  forwarder?: PortForwarder,
  criOf?: CriPodMemberOf,
): Omit<ContainersServer, 'diff' | 'export'> {
  const toSummary = (c: Container) => summaryOf(c, networkOf?.(c.id), criOf?.(c));
  /** `container:<id>` has its target's hostname (the target may be gone: then its ID's). */
  const hostnameOf = (c: Container): string => {
    const joined = joinedContainer(c.config.network);
    if (joined === undefined) return c.config.hostname || shortId(c.id);
    const target = service.exists(joined) ? service.resolve(joined) : undefined;
    return target?.config.hostname || shortId(joined);
  };
  return {
    create: adapt.unary('Create', async (ctx, req) => {
      const config = fromWireConfig(req.config);
      // `container:NAME` is kept as `container:<id>` (Docker's NetworkMode): a rename or a new container of that name changes nothing.
      const joined = joinedContainer(config.network);
      const resolved = joined === undefined ? config : { ...config, network: `container:${service.resolve(joined).id}` };
      return { container: toSummary(await service.create(ctx, req.name, resolved)) };
    }),
    start: adapt.unary('Start', async (ctx, req) => ({ container: toSummary(await service.start(ctx, req.id)) })),
    stop: adapt.unary('Stop', async (ctx, req) => ({
      container: toSummary(
        await service.stop(ctx, req.id, { timeoutSeconds: req.timeoutSet ? req.timeout : undefined, signal: req.signal || undefined }),
      ),
    })),
    restart: adapt.unary('Restart', async (ctx, req) => ({
      container: toSummary(await service.restart(ctx, req.id, req.timeoutSet ? req.timeout : undefined)),
    })),
    kill: adapt.unary('Kill', async (ctx, req) => {
      await service.kill(ctx, req.id, req.signal);
      return {};
    }),
    pause: adapt.unary('Pause', async (ctx, req) => {
      await service.pause(ctx, req.id);
      return {};
    }),
    unpause: adapt.unary('Unpause', async (ctx, req) => {
      await service.unpause(ctx, req.id);
      return {};
    }),
    remove: adapt.unary('Remove', async (ctx, req) => ({ id: (await service.remove(ctx, req.id, req.force, req.volumes)).id })),
    list: adapt.unary('List', async (_ctx, req) => ({ containers: service.list(req.all, req.filters, req.allNamespaces).map(toSummary) })),
    inspect: adapt.unary('Inspect', async (_ctx, req) => {
      const c = service.resolve(req.id);
      const specJson = await io.specJson(c.id);
      return {
        container: toSummary(c),
        config: toWireConfig(c.config),
        health: toWireHealth(c.state.health),
        logPath: service.logPathOf(c.id),
        bundle: service.bundleOf(c.id),
        snapshotter: c.snapshotter,
        snapshotKey: c.snapshotKey,
        monitorPid: c.state.monitorPid,
        hostname: hostnameOf(c),
        specJson,
        sandboxKey: networkOf?.(c.id)?.netns ?? '',
        mounts: mountPointsOf(c.config),
        ...effectiveSecurity(c.config, specJson),
        ...privilegesToInspect(service.privilegesOf(c)),
      };
    }),
    wait: adapt.unary('Wait', async (ctx, req) => {
      const condition = (req.condition || 'not-running') as WaitCondition;
      if (!WAIT_CONDITIONS.includes(condition)) throw invalidArgument(`invalid wait condition "${req.condition}"`);
      return { exitCode: await service.wait(ctx, req.id, condition), error: '' };
    }),
    prune: adapt.unary('Prune', async (ctx) => ({ removed: await service.prune(ctx) })),
    top: adapt.unary('Top', async (ctx, req) => {
      const { titles, processes } = await io.top(ctx, req.id);
      return { titles, processes: processes.map((fields) => ({ fields })) };
    }),
    stats: adapt.serverStream('Stats', async (ctx, req, send) => {
      const container = service.resolve(req.id);
      for (;;) {
        const sample = await io.stats(ctx, container.id);
        await send({ id: container.id, name: container.name, ...sample });
        if (!req.stream) return;
        await delay(ctx, STATS_INTERVAL_MS);
        if (ctx.signal.aborted) return;
      }
    }),
    logs: adapt.serverStream('Logs', async (ctx, req, send) => {
      const streams = [...(req.stdout ? ['stdout' as const] : []), ...(req.stderr ? ['stderr' as const] : [])];
      const entries = io.logs(ctx, req.id, {
        follow: req.follow,
        tail: req.tailSet ? req.tail : undefined,
        since: req.since,
        until: req.until,
        streams: streams.length ? streams : ['stdout', 'stderr'],
      });
      for await (const entry of entries) {
        await send({ timestamp: entry.time, stream: wireStream(entry.stream), data: lineBytes(entry) });
      }
    }),
    attach: adapt.bidiStream<AttachRequest, AttachResponse>('Attach', async (ctx, incoming, send) => {
      const input = incoming[Symbol.asyncIterator]();
      const first = (await input.next()).value as AttachRequest | undefined;
      if (first?.kind?.$case !== 'start') throw invalidArgument('the first attach message must be "start"');
      const start = first.kind.value;
      const attached = await io.attach(ctx, start.id, { stdin: start.stdin, start: start.start, size: start.size });
      const pump = pumpInput(input, {
        stdin: (data) => attached.write(data),
        resize: (rows, cols) => attached.resize(rows, cols),
        closeStdin: () => attached.closeStdin(),
      });
      try {
        for await (const frame of attached.output) {
          if ((frame.stream === 'stdout' && !start.stdout) || (frame.stream === 'stderr' && !start.stderr)) continue;
          await send({ kind: { $case: 'output', value: wireOutput(frame) } });
        }
        await send({ kind: { $case: 'exitCode', value: await attached.exitCode } });
      } finally {
        attached.close();
        pump.stop();
      }
    }),
    exec: adapt.bidiStream<ExecRequest, ExecResponse>('Exec', async (ctx, incoming, send) => {
      const input = incoming[Symbol.asyncIterator]();
      const first = (await input.next()).value as ExecRequest | undefined;
      if (first?.kind?.$case !== 'start') throw invalidArgument('the first exec message must be "start"');
      const start = first.kind.value;
      if (start.args.length === 0) throw invalidArgument('exec needs a command');
      // A detached process must outlive this call, so it does not get the call's signal.
      const execCtx = start.detach ? background() : ctx;
      const { id: execId, session } = await io.exec(execCtx, start.id, {
        args: start.args,
        env: start.env,
        user: start.user || undefined,
        workingDir: start.workingDir || undefined,
        tty: start.tty,
        stdin: start.stdin && !start.detach,
        size: start.size,
      });
      if (start.detach) {
        // Nobody reads its output: drain it so the process never blocks on a full pipe.
        session.output.resume();
        await send({ kind: { $case: 'started', value: { execId, pid: session.pid } } });
        return;
      }
      const pump = pumpInput(input, {
        stdin: (data) => session.write(data),
        resize: (rows, cols) => session.resize(rows, cols),
        closeStdin: () => session.closeStdin(),
      });
      try {
        await send({ kind: { $case: 'started', value: { execId, pid: session.pid } } });
        for await (const frame of session.output) {
          await send({ kind: { $case: 'output', value: wireOutput(frame) } });
        }
        await send({ kind: { $case: 'exitCode', value: await session.wait() } });
      } finally {
        if (ctx.signal.aborted) session.kill('SIGKILL');
        pump.stop();
      }
    }),
    portForward: adapt.bidiStream<PortForwardRequest, PortForwardResponse>('PortForward', (ctx, incoming, send) =>
      forwardPort(ctx, forwarder, incoming, send),
    ),
  };
}

interface InputSink {
  stdin(data: Buffer): Promise<void>;
  resize(rows: number, cols: number): void | Promise<void>;
  closeStdin(): Promise<void>;
}

/**
 * Feeds the client's messages after `start` to the session until the client
 * half-closes. Input that arrives once the process is gone (a resize racing
 * the exit, keystrokes after it) has nowhere to go and is dropped: the
 * output side reports the end. `stop()` ends the pump without waiting for
 * the client.
 */
function pumpInput(input: AsyncIterator<AttachRequest | ExecRequest>, sink: InputSink): { stop(): void } {
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const { value, done: ended } = await input.next();
      if (ended || stopped) return;
      const kind = value.kind;
      try {
        if (kind?.$case === 'stdin') await sink.stdin(Buffer.from(kind.value));
        else if (kind?.$case === 'resize') await sink.resize(kind.value.rows, kind.value.cols);
        else if (kind?.$case === 'closeStdin') await sink.closeStdin();
      } catch {
        // the process (or its monitor) is gone; see above
      }
    }
  })().catch(() => undefined);
  void done;
  return {
    stop: () => {
      stopped = true;
    },
  };
}

function wireStream(stream: 'stdout' | 'stderr'): StdStream {
  return stream === 'stdout' ? StdStream.STD_STREAM_STDOUT : StdStream.STD_STREAM_STDERR;
}

function wireOutput(frame: OutputFrame) {
  return { stream: wireStream(frame.stream), data: frame.data };
}

function delay(ctx: Ctx, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    ctx.signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
