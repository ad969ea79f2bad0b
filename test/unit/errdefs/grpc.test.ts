// Every error kind survives the trip server → gRPC → client, through the real
// grpc-js server wrapper and the real client, over a unix socket.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { RuntimeClient } from '../../../runtime/client/client';
import { VersionService } from '../../../runtime/api/gen/gantry/v1/version';
import { HandlerAdapter } from '../../../runtime/api/server';
import { versionService } from '../../../runtime/api/services/version';
import { ERROR_KINDS, GantryError, isGantryError, type ErrorKind } from '../../../runtime/errdefs/errdefs';
import { silentLogger } from '../../../runtime/util/log';

describe('errdefs over gRPC', () => {
  let dir: string;
  let server: Server;
  let client: RuntimeClient;
  let raise: ErrorKind = 'Unknown';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errgrpc-'));
    server = new Server();
    server.addService(
      VersionService,
      versionService(new HandlerAdapter(silentLogger), async () => {
        throw new GantryError(raise, `raised ${raise}`);
      }),
    );
    const socket = path.join(dir, 's.sock');
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
    );
    client = RuntimeClient.forSocket(socket);
  });

  after(() => {
    client.close();
    server.forceShutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const kind of ERROR_KINDS) {
    it(`round-trips ${kind}`, async () => {
      raise = kind;
      await assert.rejects(client.system.version(), (e: unknown) => {
        assert.ok(isGantryError(e), 'client errors are GantryErrors');
        assert.equal(e.kind, kind);
        assert.equal(e.message, `raised ${kind}`);
        return true;
      });
    });
  }

  it('turns a plain Error thrown by a handler into Unknown, keeping its message', async () => {
    const plain = new Server();
    plain.addService(
      VersionService,
      versionService(new HandlerAdapter(silentLogger), async () => {
        throw new Error('boom');
      }),
    );
    const socket = path.join(dir, 'plain.sock');
    await new Promise<void>((resolve, reject) =>
      plain.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
    );
    const c = RuntimeClient.forSocket(socket);
    try {
      await assert.rejects(c.system.version(), (e: unknown) => isGantryError(e) && e.kind === 'Unknown' && e.message === 'boom');
    } finally {
      c.close();
      plain.forceShutdown();
    }
  });

  it('reports a missing socket as Unavailable', async () => {
    const c = RuntimeClient.forSocket(path.join(dir, 'nobody-home.sock'));
    try {
      await assert.rejects(c.system.version({ timeoutMs: 5_000 }), (e: unknown) => isGantryError(e) && e.kind === 'Unavailable');
    } finally {
      c.close();
    }
  });
});
