import { processStartError } from '../../../runtime/tasks/startErrors';
import { strict as assert } from 'node:assert';
import { formatLogTime, parseTail, parseTimestamp } from '../../../runtime/cli/commands/logs';
import { startFailureExitCode } from '../../../runtime/cli/commands/run';
import { UsageError } from '../../../runtime/cli/command';
import { GantryError, invalidArgument } from '../../../runtime/errdefs/errdefs';

describe('logs options', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');

  it('reads --since/--until as durations before now, Unix seconds or RFC 3339', () => {
    assert.equal(parseTimestamp('10m', now).toISOString(), '2024-05-01T11:50:00.000Z');
    assert.equal(parseTimestamp('1h30m', now).toISOString(), '2024-05-01T10:30:00.000Z');
    assert.equal(parseTimestamp('1714564800', now).toISOString(), '2024-05-01T12:00:00.000Z');
    assert.equal(parseTimestamp('1714564800.25', now).toISOString(), '2024-05-01T12:00:00.250Z');
    assert.equal(parseTimestamp('2024-05-01T10:00:00Z', now).toISOString(), '2024-05-01T10:00:00.000Z');
    assert.equal(parseTimestamp('2024-05-01T12:00:00+02:00', now).toISOString(), '2024-05-01T10:00:00.000Z');
    assert.equal(parseTimestamp('2024-04-30', now).toISOString(), '2024-04-30T00:00:00.000Z');
    assert.throws(() => parseTimestamp('yesterday', now), UsageError);
    assert.throws(() => parseTimestamp('2024-13-45', now), UsageError);
  });

  it("prints timestamps as Docker's RFC3339NanoFixed", () => {
    assert.equal(formatLogTime(new Date('2024-05-01T12:00:00.123Z')), '2024-05-01T12:00:00.123000000Z');
    assert.equal(formatLogTime(new Date('2024-05-01T12:00:00Z')), '2024-05-01T12:00:00.000000000Z');
  });

  it('reads --tail', () => {
    assert.equal(parseTail(undefined), undefined);
    assert.equal(parseTail('all'), undefined);
    assert.equal(parseTail('0'), 0);
    assert.equal(parseTail('5'), 5);
    assert.equal(parseTail('-1'), undefined);
    assert.throws(() => parseTail('some'), UsageError);
  });
});

describe("run exit codes for a failed start (Docker's 125/126/127)", () => {
  it("127 when the command is not found, 126 when it cannot be executed: the reason runc's text gives", () => {
    const runc = (text: string) => processStartError(`create task x: unable to start container process: exec: ${text}`);
    assert.equal(startFailureExitCode(runc('"/nope": stat /nope: no such file or directory')), 127);
    assert.equal(startFailureExitCode(runc('"nope": executable file not found in $PATH')), 127);
    assert.equal(startFailureExitCode(runc('"/etc/passwd": permission denied')), 126);
    assert.equal(startFailureExitCode(runc('"/etc": is a directory')), 126);
  });

  it('125 for everything else, whatever the message says', () => {
    assert.equal(startFailureExitCode(invalidArgument('unable to find user nobody9: no matching entries in passwd file')), 125);
    assert.equal(startFailureExitCode(invalidArgument('exec: "/nope": no such file or directory')), 125);
    assert.equal(startFailureExitCode(new GantryError('FailedPrecondition', 'no such file or directory')), 125);
    assert.equal(startFailureExitCode(new GantryError('Unavailable', 'gone', { transport: true })), 125);
    assert.equal(startFailureExitCode(new Error('plain')), 125);
  });
});
