/**
 * What keeps Start Runtime from starting this machine's gantryd, in the
 * doctor's words (runtime/doctor, `gantry doctor`): the failing required
 * checks of the mode this user's daemon runs in (rootless for a user other
 * than root, docs/rootless.md). No VS Code imports: the rootless start test
 * runs this as an unprivileged user (test/integration/rootless/).
 */
import { hostProbe, runDoctor, type DoctorCheck, type DoctorReport } from '../../../runtime/doctor';

/** The doctor's report of this host, as the extension host's user sees it. */
export function checkThisHost(env: NodeJS.ProcessEnv = process.env): DoctorReport {
  return runDoctor(hostProbe(env));
}

/** The required checks of the report's mode that fail: none means the daemon can start. */
export function startBlockers(report: DoctorReport): DoctorCheck[] {
  return report.checks.filter((c) => c.mode === report.mode && c.required && !c.ok);
}

/** One line per blocker: "newuidmap, newgidmap: not found: newuidmap — fix: apt-get install uidmap". */
export function describeBlockers(blockers: readonly DoctorCheck[]): string[] {
  return blockers.map((c) => `${c.title}: ${c.detail}${c.fix ? ` — fix: ${c.fix}` : ''}`);
}

/**
 * The rows as a Markdown page (Gantry: Check Set-up): a table per mode, the
 * current one first, each row with pass/fail/warn and the fix.
 */
export function doctorMarkdown(report: DoctorReport): string {
  const modes = report.mode === 'rootless' ? (['rootless', 'rootful'] as const) : (['rootful', 'rootless'] as const);
  const heading = { rootful: 'Rootful (root, or the system daemon through its group)', rootless: 'Rootless (your own daemon, no root)' };
  const lines = [
    '# Gantry set-up check',
    '',
    `${report.user} (uid ${report.uid}) runs a **${report.mode}** daemon here: ${report.ok ? '**ready**' : '**not ready**'}.`,
    '',
    'FAIL keeps that mode from running containers; warn turns one feature off. The same checks as `gantry doctor`.',
  ];
  for (const mode of modes) {
    lines.push(
      '',
      `## ${heading[mode]}${mode === report.mode ? ' — your mode' : ''}`,
      '',
      '| | check | found | fix |',
      '|---|---|---|---|',
    );
    for (const c of report.checks.filter((x) => x.mode === mode)) {
      lines.push(`| ${mark(c)} | ${cell(c.title)} | ${cell(c.detail)} | ${c.fix ? `\`${cell(c.fix.replace(/`/g, "'"))}\`` : ''} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function mark(c: DoctorCheck): 'ok' | 'FAIL' | 'warn' {
  if (c.ok) return 'ok';
  return c.required ? 'FAIL' : 'warn';
}

/** Table cells: a pipe ends the cell, a newline the table. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
