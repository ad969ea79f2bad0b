/**
 * What a rootless gantryd needs on an SSH host (a non-root login without
 * `sudo -n`), asked of the host's own `gantry doctor --format json`: the one
 * table of prerequisites and fixes (runtime/doctor/checks.ts), run there as
 * that user with that user's PATH, /etc/subuid and kernel, so the answer is
 * the one the daemon would meet. The doctor needs the bundle on the host, so
 * this runs after the upload — into the user's own directory, nothing
 * privileged — and before the daemon is started.
 */
import type { Ctx } from '../../context';
import type { DoctorCheck, DoctorReport } from '../../doctor';
import { failedPrecondition, GantryError } from '../../errdefs/errdefs';
import { remoteCommand, type Ssh } from './ssh';

/**
 * Runs "$@" with the sbin dirs on PATH, as deploy.ts's scripts start the
 * daemon: the doctor must look where the daemon will (a non-root login's
 * PATH lacks /usr/sbin, where runc is). One line: it goes on the command line.
 */
const WITH_SBIN = 'PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"; export PATH; exec "$@"';

/** Rootless rows that turn a feature off without stopping the daemon: shown as connect warnings. */
const ROOTLESS_WARNINGS: ReadonlySet<string> = new Set(['slirp4netns', 'dev-net-tun', 'userns-overlay', 'cgroup-delegation']);

export interface RootlessVerdict {
  /** The required rootless checks that fail, as one FailedPrecondition naming each with its fix; undefined when none. */
  readonly missing?: GantryError;
  /** Features the rootless daemon there will lack, each with its fix. */
  readonly warnings: readonly string[];
}

/** Runs the doctor on the host (`node gantry.js doctor --format json`) and judges its rootless rows. */
export async function checkRootless(ctx: Ctx, ssh: Ssh, node: string, gantryJs: string, uid: number): Promise<RootlessVerdict> {
  const res = await ssh.run(
    ctx,
    remoteCommand(['/bin/sh', '-c', WITH_SBIN, 'gantry-doctor', node, gantryJs, 'doctor', '--format', 'json']),
    {
      timeoutMs: 60_000,
      what: 'checking the rootless prerequisites',
    },
  );
  let report: DoctorReport;
  try {
    report = JSON.parse(res.stdout) as DoctorReport;
    if (!Array.isArray(report.checks)) throw new Error('no checks');
  } catch {
    // Exit 1 only means "not ready"; anything but the report is a failure of the doctor itself.
    throw new GantryError(
      'Unavailable',
      `checking the rootless prerequisites on ${ssh.label} failed (exit ${res.code}): ${res.stderr.trim() || res.stdout.trim().slice(0, 500) || 'no output'}`,
    );
  }
  return judgeRootless(report.checks, ssh.label, uid);
}

/** The verdict on the doctor's rows (pure, for the unit tests). */
export function judgeRootless(checks: readonly DoctorCheck[], label: string, uid: number): RootlessVerdict {
  const rootless = checks.filter((c) => c.mode === 'rootless' && !c.ok);
  const row = (c: DoctorCheck) => `${c.title}: ${c.detail}${c.fix ? `; fix: ${c.fix}` : ''}`;
  const failing = rootless.filter((c) => c.required);
  const missing = failing.length
    ? failedPrecondition(
        `${label} cannot run a rootless gantryd (logged in as uid ${uid}, and \`sudo -n\` is not allowed, so gantryd runs as you); missing:\n` +
          failing.map((c) => `  - ${row(c)}`).join('\n') +
          '\n(or log in as root, or allow passwordless sudo for this user, for a rootful gantryd)',
      )
    : undefined;
  const warnings = rootless.filter((c) => !c.required && ROOTLESS_WARNINGS.has(c.id)).map((c) => `${label} (rootless): ${row(c)}`);
  return { missing, warnings };
}
