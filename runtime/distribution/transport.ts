/**
 * HTTP for registries: which scheme a host speaks, which TLS settings apply,
 * keep-alive connection pools, retries. No auth and no registry semantics here.
 *
 * Scheme
 * - Ordinary hosts: HTTPS only, certificates verified against the system CAs
 *   plus `<certsDir>/<host>/*.crt`.
 * - Loopback hosts (127.0.0.0/8, ::1, localhost): HTTPS first, verified; if
 *   the server turns out not to speak TLS (or refuses https on a port-less
 *   host, where http means another port) the host is plain HTTP. A TLS server
 *   whose certificate does not verify is NOT downgraded: that is a missing CA,
 *   reported as such.
 * - --insecure-registry hosts: as loopback, but certificates are not verified
 *   (Docker's meaning of "insecure").
 * The answer is probed once per host (GET /v2/) and cached for the Transport's
 * life; a failed probe is not cached. A registry restart does not change it.
 *
 * Pools: one undici Agent per distinct TLS configuration (most hosts share
 * the default one). Requests made on a registry's behalf — token realms,
 * redirects to blob storage — use that registry's TLS configuration, as Docker
 * does. A TLS failure forgets the host's configuration so a CA added to
 * certs.d afterwards is picked up without a restart.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import { Readable } from 'node:stream';
import { Agent, Dispatcher, request } from 'undici';
import type { Ctx } from '../context';
import { failedPrecondition, GantryError, isCancelled, isGantryError } from '../errdefs/errdefs';
import type { Logger } from '../util/log';
import { discardBody, isPlainHttpServer, isTlsError, networkError } from './errors';
import { hasPort, isListedInsecure, isLoopback, loadTlsFiles } from './hosts';
import { BackoffOptions, cancelled, errorCode, httpJudge, retry } from './retry';
import type { EndpointTls } from './registryHosts';

export interface TransportOptions {
  readonly certsDir: string;
  readonly insecureRegistries: readonly string[];
  readonly backoff: BackoffOptions;
  readonly userAgent: string;
  readonly logger?: Logger;
  /**
   * TLS settings from a hosts.toml (registryHosts.ts): used for every host
   * this transport talks to, in place of the certs dir and the insecure list.
   */
  readonly tls?: EndpointTls;
  /** Connection timeout (a hosts.toml's dial_timeout). */
  readonly connectTimeoutMs?: number;
}

export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * In memory, or an iterable that starts a fresh pass over the same bytes
   * each time it is iterated (the pusher's streamed PATCH): either way a
   * retry or an auth round trip can send it again.
   */
  readonly body?: string | Buffer | AsyncIterable<Uint8Array>;
}

export type HttpResponse = Dispatcher.ResponseData;

const KEEP_ALIVE_MS = 30_000;
const CLOSE_GRACE_MS = 5_000;
// Debian/Ubuntu, Fedora/RHEL, Alpine: the OS trust store, which Node's bundled roots may lack.
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

export class Transport {
  private readonly agents = new Map<string, Agent>();
  private readonly hostAgents = new Map<string, Promise<Agent>>();
  private readonly endpoints = new Map<string, Promise<string>>();
  private closed = false;

  constructor(private readonly opts: TransportOptions) {}

  /** "https://host" or "http://host" for registry `host` (probing once for loopback and insecure hosts). */
  async endpoint(ctx: Ctx, host: string): Promise<string> {
    this.assertOpen();
    if (!isLoopback(host) && !isListedInsecure(host, this.opts.insecureRegistries)) return `https://${host}`;
    for (;;) {
      let probe = this.endpoints.get(host);
      if (!probe) {
        const p = this.probe(ctx, host);
        this.endpoints.set(host, p);
        p.catch(() => this.endpoints.get(host) === p && this.endpoints.delete(host));
        probe = p;
      }
      try {
        return await probe;
      } catch (e) {
        // Another caller's cancellation is not ours: probe again.
        if (isCancelled(e) && !ctx.signal.aborted) continue;
        throw e;
      }
    }
  }

  /**
   * Whether the user named `host` with --insecure-registry: only then may
   * credentials meant for an HTTPS registry travel over plain HTTP (a token
   * realm or a redirect on http:).
   */
  mayDowngrade(host: string): boolean {
    return isListedInsecure(host, this.opts.insecureRegistries);
  }

  /**
   * One request with `host`'s TLS configuration, retried per the backoff
   * options (POST and PATCH are never retried: an upload session moves on
   * with each one; the pusher asks the registry where it stands instead). Resolves with any HTTP status once
   * headers arrive; rejects with Unavailable (no answer) or Cancelled.
   */
  async send(ctx: Ctx, host: string, req: HttpRequest): Promise<HttpResponse> {
    this.assertOpen();
    const once = req.method === 'POST' || req.method === 'PATCH';
    const backoff = once ? { ...this.opts.backoff, maxRetries: 0 } : this.opts.backoff;
    try {
      const agent = await this.agentFor(host);
      return await retry<HttpResponse>(ctx, backoff, () => this.once(ctx, agent, req), {
        judge: httpJudge(backoff),
        discard: (res) => discardBody(res.body),
        onRetry: (attempt, delayMs, reason) =>
          this.opts.logger?.debug('registry request retry', {
            host,
            method: req.method,
            url: req.url,
            attempt,
            delayMs,
            reason: (reason as Partial<HttpResponse>).statusCode ?? errorCode(reason) ?? String(reason),
          }),
      });
    } catch (e) {
      throw this.failure(ctx, e, host, req.url);
    }
  }

  /** Closes every pool; requests still streaming after a grace period are cut. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const agents = [...this.agents.values()];
    this.agents.clear();
    this.hostAgents.clear();
    await Promise.all(
      agents.map(async (a) => {
        // undici's close() waits for every body to be consumed, which an
        // abandoned stream never is: give it a grace period, then destroy.
        let timer: NodeJS.Timeout | undefined;
        const drained = a.close().then(
          () => true,
          () => true,
        );
        const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_GRACE_MS)));
        const graceful = await Promise.race([drained, late]);
        clearTimeout(timer);
        if (!graceful) await a.destroy().catch(() => undefined);
      }),
    );
  }

  private once(ctx: Ctx, agent: Agent, req: HttpRequest): Promise<HttpResponse> {
    return request(req.url, {
      method: req.method,
      headers: { 'user-agent': this.opts.userAgent, ...req.headers },
      // An iterable body starts a fresh pass for each request (Readable.from asks for its iterator on the first read).
      body: req.body === undefined || typeof req.body === 'string' || Buffer.isBuffer(req.body) ? req.body : Readable.from(req.body),
      signal: ctx.signal,
      dispatcher: agent,
    });
  }

  private async probe(ctx: Ctx, host: string): Promise<string> {
    const https = `https://${host}`;
    try {
      const agent = await this.agentFor(host);
      const endpoint = await retry(ctx, this.opts.backoff, async () => {
        try {
          const res = await this.once(ctx, agent, { method: 'GET', url: `${https}/v2/` });
          await discardBody(res.body);
          return https;
        } catch (e) {
          // A port-less host refusing 443 may well serve 80; with a port, refused is just "down".
          if (isPlainHttpServer(e) || (errorCode(e) === 'ECONNREFUSED' && !hasPort(host))) return `http://${host}`;
          throw e;
        }
      });
      this.opts.logger?.debug('registry endpoint', { host, endpoint });
      return endpoint;
    } catch (e) {
      throw this.failure(ctx, e, host, `${https}/v2/`);
    }
  }

  private failure(ctx: Ctx, e: unknown, host: string, url: string): GantryError {
    if (isGantryError(e)) return e;
    if (ctx.signal.aborted) return cancelled(`request to ${host} cancelled`, e);
    if (isTlsError(e)) this.hostAgents.delete(host);
    const err = networkError(e, host, this.opts.certsDir);
    const urlHost = safeHost(url);
    if (urlHost && urlHost !== host) err.message += ` (requesting ${urlHost})`;
    return err;
  }

  private agentFor(host: string): Promise<Agent> {
    let p = this.hostAgents.get(host);
    if (!p) {
      p = this.buildAgent(host);
      this.hostAgents.set(host, p);
      const mine = p;
      p.catch(() => this.hostAgents.get(host) === mine && this.hostAgents.delete(host));
    }
    return p;
  }

  private async buildAgent(host: string): Promise<Agent> {
    const configured = this.opts.tls;
    const files = configured
      ? { ca: [...configured.ca], cert: configured.cert, key: configured.key }
      : await loadTlsFiles(this.opts.certsDir, host);
    const insecure = configured ? configured.skipVerify : isListedInsecure(host, this.opts.insecureRegistries);
    const connect: tls.ConnectionOptions & { timeout?: number } = {};
    if (this.opts.connectTimeoutMs !== undefined) connect.timeout = this.opts.connectTimeoutMs;
    // Passing `ca` replaces Node's roots, so the system ones go in too.
    if (files && files.ca.length > 0) connect.ca = [...systemRoots(), ...files.ca];
    if (files?.cert) {
      connect.cert = files.cert;
      connect.key = files.key;
    }
    if (insecure) connect.rejectUnauthorized = false;
    const key = createHash('sha256')
      .update(JSON.stringify([connect.ca, connect.cert, connect.key, insecure, connect.timeout]))
      .digest('hex');
    this.assertOpen();
    let agent = this.agents.get(key);
    if (!agent) {
      agent = new Agent({ connect, keepAliveTimeout: KEEP_ALIVE_MS });
      this.agents.set(key, agent);
    }
    return agent;
  }

  private assertOpen(): void {
    if (this.closed) throw failedPrecondition('registry client is closed');
  }
}

let roots: string[] | undefined;

/** Node's bundled roots, the OS bundle and NODE_EXTRA_CA_CERTS: what "system CAs" means here. */
function systemRoots(): string[] {
  if (!roots) {
    roots = [...tls.rootCertificates];
    const bundle = SYSTEM_BUNDLES.find((f) => fs.existsSync(f));
    for (const f of [bundle, process.env.NODE_EXTRA_CA_CERTS]) {
      if (!f) continue;
      try {
        roots.push(fs.readFileSync(f, 'utf8'));
      } catch {
        // An unreadable bundle only means fewer roots; the host's own CA still applies.
      }
    }
  }
  return roots;
}

function safeHost(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}
