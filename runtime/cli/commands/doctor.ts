/**
 * `gantry doctor`: every prerequisite of the rootful and the rootless daemon,
 * pass or fail, with the fix (docs/service.md). Needs no daemon. Exit 0 when
 * the current mode's required checks pass, 1 otherwise.
 */
import { hostProbe, runDoctor, type DoctorCheck, type DoctorMode } from '../../doctor';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { writeJson } from '../output';

const HEADINGS: Record<DoctorMode, string> = {
  rootful: 'Rootful (root, or the system daemon through its group)',
  rootless: 'Rootless (your own daemon, no root)',
};

function mark(c: DoctorCheck): string {
  if (c.ok) return 'ok';
  return c.required ? 'FAIL' : 'warn';
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: "check this host's prerequisites for the rootful and the rootless daemon",
  usage: `Usage: gantry doctor [--format text|json]

List every prerequisite of the rootful and the rootless daemon, each with
what was found and, when it fails, the exact fix. "FAIL" rows keep that mode
from running containers; "warn" rows turn a feature off. Needs no daemon.

Exit status: 0 when the current mode (rootful as root, else rootless) has
every required prerequisite, 1 otherwise.

Options:
  --format text|json   (default: text)
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { format: { type: 'string' } }, ctx);
    if (!args) return 0;
    const format = args.values.format ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError(`doctor: --format is text or json, not "${format}"`);
    const report = runDoctor(hostProbe());
    if (format === 'json') {
      writeJson(ctx.stdout, report);
      return report.ok ? 0 : 1;
    }
    const out = ctx.stdout;
    out.write(`Mode: ${report.mode} (${report.user}, uid ${report.uid}): ${report.ok ? 'ready' : 'not ready'}\n`);
    const width = Math.max(...report.checks.map((c) => c.title.length)) + 2;
    for (const mode of ['rootful', 'rootless'] as const) {
      out.write(`\n${HEADINGS[mode]}${mode === report.mode ? '  [current mode]' : ''}\n`);
      for (const c of report.checks.filter((x) => x.mode === mode)) {
        out.write(`  ${mark(c).padEnd(5)} ${c.title.padEnd(width)}${c.detail}\n`);
        if (c.fix) out.write(`  ${''.padEnd(5)} ${''.padEnd(width)}fix: ${c.fix}\n`);
      }
    }
    return report.ok ? 0 : 1;
  },
};
