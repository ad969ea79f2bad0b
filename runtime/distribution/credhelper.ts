/**
 * Docker credential helpers (github.com/docker/docker-credential-helpers):
 * `docker-credential-<name> <action>`, one request on stdin, one answer on
 * stdout, exit status 0 on success.
 *
 *   get    stdin: server URL              stdout: {"ServerURL","Username","Secret"}
 *   store  stdin: {"ServerURL","Username","Secret"}
 *   erase  stdin: server URL
 *
 * A missing entry is reported by exit status 1 and the protocol's fixed text
 * "credentials not found in native keychain" on stdout; that text is part of
 * the helper protocol (the reference client compares it the same way), not an
 * error message of ours.
 *
 * Helpers run with argv only (no shell) and a timeout: a keychain prompt that
 * nobody answers must not hang a pull forever.
 */
import { spawn } from 'node:child_process';
import { failedPrecondition, GantryError, invalidArgument } from '../errdefs/errdefs';

const NOT_FOUND = 'credentials not found in native keychain';
const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_OUTPUT = 1024 * 1024;

export interface HelperOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

export interface HelperCredentials {
  readonly ServerURL?: string;
  readonly Username: string;
  readonly Secret: string;
}

/** The helper's entry for `serverUrl`, or undefined when it has none. */
export async function helperGet(name: string, serverUrl: string, opts: HelperOptions = {}): Promise<HelperCredentials | undefined> {
  const r = await runHelper(name, 'get', serverUrl, opts);
  if (r.notFound) return undefined;
  let doc: Partial<HelperCredentials>;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw invalidArgument(`docker-credential-${name} get: malformed answer for ${serverUrl}`);
  }
  if (typeof doc.Secret !== 'string' || !doc.Secret) return undefined;
  return { ServerURL: doc.ServerURL, Username: typeof doc.Username === 'string' ? doc.Username : '', Secret: doc.Secret };
}

export async function helperStore(name: string, creds: HelperCredentials, opts: HelperOptions = {}): Promise<void> {
  await runHelper(name, 'store', JSON.stringify(creds), opts);
}

/** Erases the entry; false when the helper had none. */
export async function helperErase(name: string, serverUrl: string, opts: HelperOptions = {}): Promise<boolean> {
  return !(await runHelper(name, 'erase', serverUrl, opts)).notFound;
}

async function runHelper(
  name: string,
  action: 'get' | 'store' | 'erase',
  input: string,
  opts: HelperOptions,
): Promise<{ stdout: string; notFound: boolean }> {
  // The name comes from a config file and becomes part of a command name: no paths.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw invalidArgument(`invalid credential helper name "${name}"`);
  const command = `docker-credential-${name}`;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(command, [action], { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal });
    // Our own timer rather than spawn's `timeout`, which outlives a helper that failed to start.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    let stdout = '';
    let stderr = '';
    const take = (s: string, chunk: Buffer) => (s.length < MAX_OUTPUT ? s + chunk.toString('utf8') : s);
    child.stdout.on('data', (c: Buffer) => (stdout = take(stdout, c)));
    child.stderr.on('data', (c: Buffer) => (stderr = take(stderr, c)));
    // A helper that exits without reading stdin makes our write fail with EPIPE; its exit status tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT') reject(failedPrecondition(`credential helper ${command} is configured but not found on PATH`, e));
      else if (e.name === 'AbortError') reject(new GantryError('Cancelled', `${command} ${action} cancelled`, { cause: e }));
      else reject(new GantryError('Unknown', `${command} ${action}: ${e.message}`, { cause: e }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve({ stdout, notFound: false });
      if (stdout.trim() === NOT_FOUND) return resolve({ stdout, notFound: true });
      if (timedOut) return reject(new GantryError('DeadlineExceeded', `${command} ${action} did not answer within ${timeoutMs} ms`));
      const why = (stdout.trim() || stderr.trim() || (signal ? `killed by ${signal}` : `exit status ${code}`)).slice(0, 500);
      reject(new GantryError('Unknown', `${command} ${action} failed: ${why}`));
    });
  });
}
