/**
 * AppArmor on this host: whether the kernel has it, and loading
 * gantry-default with `apparmor_parser` (package `apparmor`) the first time
 * a container needs it, as dockerd loads docker-default. The profile is
 * replaced on every daemon start (`-r`), so a new Gantry's text wins, and
 * kept out of the parser's cache (`-K`).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { failedPrecondition } from '../../../errdefs/errdefs';
import { DEFAULT_PROFILE_NAME, type AppArmorHost } from './apparmor';
import { defaultProfileText } from './profile';

const ENABLED_FILE = '/sys/module/apparmor/parameters/enabled';

export function appArmorEnabled(): boolean {
  try {
    return fs.readFileSync(ENABLED_FILE, 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
}

/** gantryd's own label ("unconfined", or a profile name without its mode). */
function ownLabel(): string | undefined {
  try {
    return fs
      .readFileSync('/proc/self/attr/current', 'utf8')
      .replace(/\0/g, '')
      .trim()
      .replace(/ \((enforce|complain)\)$/, '');
  } catch {
    return undefined;
  }
}

function runParser(parser: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(parser, ['-Kr'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) =>
      reject(
        failedPrecondition(`cannot run ${parser} to load the ${DEFAULT_PROFILE_NAME} AppArmor profile: ${e.message}; install apparmor`, e),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(failedPrecondition(`${parser} refused the ${DEFAULT_PROFILE_NAME} AppArmor profile (exit ${code}): ${stderr.trim()}`));
    });
    child.stdin.end(text);
  });
}

export class KernelAppArmor implements AppArmorHost {
  readonly enabled = appArmorEnabled();
  private loading: Promise<void> | undefined;

  constructor(private readonly parser = 'apparmor_parser') {}

  ensureDefaultProfile(): Promise<void> {
    this.loading ??= runParser(
      this.parser,
      defaultProfileText({
        tunables: fs.existsSync('/etc/apparmor.d/tunables/global'),
        baseAbstraction: fs.existsSync('/etc/apparmor.d/abstractions/base'),
        daemonProfile: ownLabel(),
      }),
    ).catch((e: unknown) => {
      this.loading = undefined;
      throw e;
    });
    return this.loading;
  }
}
