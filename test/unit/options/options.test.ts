import { strict as assert } from 'node:assert';
import { isInvalidArgument } from '../../../runtime/errdefs/errdefs';
import {
  parseCpus,
  parseDuration,
  parseEnvFile,
  parseLabelFile,
  parseLabels,
  parseMemory,
  parseRestartPolicy,
  parseSignal,
  parseTmpfs,
  validateContainerName,
  validateHostname,
  containerNameProblem,
} from '../../../runtime/options';
import { signalName, signalNumber } from '../../../runtime/containers/signals';

/** Throws InvalidArgument whose message quotes `value` (the bad input is always named). */
function refuses(fn: (v: string) => unknown, value: string, re?: RegExp): void {
  assert.throws(
    () => fn(value),
    (e: unknown) =>
      isInvalidArgument(e) && (e as Error).message.includes(JSON.stringify(value).slice(1, -1)) && (!re || re.test((e as Error).message)),
    `${value} should be refused`,
  );
}

describe('options', () => {
  describe('parseTmpfs', () => {
    it('/dst and /dst:opts', () => {
      assert.deepEqual(parseTmpfs('/run'), { destination: '/run', options: [] });
      assert.deepEqual(parseTmpfs('/run:size=64m,mode=1777,exec'), { destination: '/run', options: ['size=64m', 'mode=1777', 'exec'] });
      assert.deepEqual(parseTmpfs('/run/:'), { destination: '/run', options: [] });
    });
    it('refuses bad destinations and options', () => {
      refuses(parseTmpfs, 'run', /absolute/);
      refuses(parseTmpfs, '/', /can't be '\/'/);
      refuses(parseTmpfs, '/run:size=huge', /size=huge/);
      refuses(parseTmpfs, '/run:bogus', /bogus/);
    });
  });

  describe('parseMemory (Docker RAMInBytes)', () => {
    const cases: [string, number][] = [
      ['1024', 1024],
      ['0', 0],
      ['10b', 10],
      ['1k', 1024],
      ['1K', 1024],
      ['512m', 512 * 1024 ** 2],
      ['512M', 512 * 1024 ** 2],
      ['1g', 1024 ** 3],
      ['1.5g', 1.5 * 1024 ** 3],
      ['1gb', 1024 ** 3],
      ['1GiB', 1024 ** 3],
      ['64 MB', 64 * 1024 ** 2],
      ['2t', 2 * 1024 ** 4],
      ['0.5k', 512],
      ['1.0001k', 1024],
    ];
    for (const [s, n] of cases) it(`${s} → ${n}`, () => assert.equal(parseMemory(s), n));
    it('refuses the rest', () => {
      for (const bad of ['', 'm', '-1m', '1x', '1.2.3m', '1ib', 'lots', '1e3']) refuses(parseMemory, bad, /invalid size/);
      refuses(parseMemory, '99999999p', /too large/);
    });
  });

  describe('parseCpus', () => {
    const cases: [string, number][] = [
      ['1', 1e9],
      ['1.5', 1.5e9],
      ['0.01', 1e7],
      ['.5', 5e8],
      ['2.', 2e9],
      ['0.000000001', 1],
      ['1.500000000', 1.5e9],
      ['0', 0],
    ];
    for (const [s, n] of cases) it(`${s} → ${n}`, () => assert.equal(parseCpus(s), n));
    it('refuses the rest', () => {
      refuses(parseCpus, '0.0000000001', /too precise/);
      for (const bad of ['', '.', '-1', 'one', '1/2', '1e9']) refuses(parseCpus, bad);
    });
  });

  describe('parseRestartPolicy', () => {
    it("accepts Docker's policies", () => {
      assert.deepEqual(parseRestartPolicy(''), { name: 'no', maximumRetryCount: 0 });
      assert.deepEqual(parseRestartPolicy('no'), { name: 'no', maximumRetryCount: 0 });
      assert.deepEqual(parseRestartPolicy('always'), { name: 'always', maximumRetryCount: 0 });
      assert.deepEqual(parseRestartPolicy('unless-stopped'), { name: 'unless-stopped', maximumRetryCount: 0 });
      assert.deepEqual(parseRestartPolicy('on-failure'), { name: 'on-failure', maximumRetryCount: 0 });
      assert.deepEqual(parseRestartPolicy('on-failure:5'), { name: 'on-failure', maximumRetryCount: 5 });
      assert.deepEqual(parseRestartPolicy('always:0'), { name: 'always', maximumRetryCount: 0 });
    });
    it("refuses with the daemon's reasons", () => {
      refuses(parseRestartPolicy, 'sometimes', /unknown policy/);
      refuses(parseRestartPolicy, 'on-failure:x', /must be an integer/);
      refuses(parseRestartPolicy, 'on-failure:-1', /cannot be negative/);
      refuses(parseRestartPolicy, 'always:3', /only be used with 'on-failure'/);
    });
  });

  describe('parseDuration (Go syntax)', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['30s', 30_000],
      ['1m30s', 90_000],
      ['500ms', 500],
      ['1.5h', 5_400_000],
      ['2h45m', 9_900_000],
      ['1ms', 1],
      ['1500us', 1],
      ['1000000ns', 1],
      ['2µs1ms', 1],
      ['.5s', 500],
      ['+10s', 10_000],
      ['0s', 0],
      ['1h0m0s', 3_600_000],
    ];
    for (const [s, n] of cases) it(`${s} → ${n} ms`, () => assert.equal(parseDuration(s), n));
    it('refuses the rest', () => {
      refuses(parseDuration, '', /empty/);
      refuses(parseDuration, '10', /missing unit/);
      refuses(parseDuration, '10d', /unknown unit "d"/);
      refuses(parseDuration, '-5s', /negative/);
      refuses(parseDuration, '100us', /shorter than 1ms/);
      refuses(parseDuration, '1s 2s');
      refuses(parseDuration, 's');
      refuses(parseDuration, '3000000h', /too long/);
    });
  });

  describe('parseEnvFile (Docker env-file rules)', () => {
    it('keeps KEY=VALUE verbatim, skips comments and blanks, looks bare keys up', () => {
      const text = [
        '\uFEFFFIRST=1',
        '# comment',
        '   ',
        '  INDENTED=yes',
        'QUOTED="not unquoted"',
        'SPACES= both sides ',
        'EMPTY=',
        'FROM_ENV',
        'MISSING',
        'WINDOWS=crlf\r',
        'EQ=a=b',
      ].join('\n');
      assert.deepEqual(parseEnvFile(text, { FROM_ENV: 'host value', OTHER: 'x' }), [
        'FIRST=1',
        'INDENTED=yes',
        'QUOTED="not unquoted"',
        'SPACES= both sides ',
        'EMPTY=',
        'FROM_ENV=host value',
        'WINDOWS=crlf',
        'EQ=a=b',
      ]);
    });
    it('refuses bad names with the line number', () => {
      assert.throws(
        () => parseEnvFile('OK=1\nBAD KEY=1\n'),
        (e: unknown) => isInvalidArgument(e) && /line 2: variable "BAD KEY" contains whitespaces/.test((e as Error).message),
      );
      assert.throws(() => parseEnvFile('=value'), /no variable name/);
      assert.throws(() => parseEnvFile('A=\uFFFD'), /invalid utf8/);
    });
    it('label files drop bare keys', () => {
      assert.deepEqual(parseLabelFile('a=1\nb\n# c\n'), ['a=1']);
    });
  });

  describe('parseLabels', () => {
    it('k=v and bare k; the last value wins', () => {
      assert.deepEqual(parseLabels(['a=1', 'b', 'c=x=y', 'a=2', 'd=']), { a: '2', b: '', c: 'x=y', d: '' });
    });
    it('refuses an empty name', () => {
      refuses((v) => parseLabels([v]), '=x', /empty name/);
      refuses((v) => parseLabels([v]), ' =x', /empty name/);
    });
  });

  describe('names', () => {
    it('container names as Docker accepts them', () => {
      assert.equal(validateContainerName('web_1.prod-a'), 'web_1.prod-a');
      assert.equal(validateContainerName('/web'), 'web');
      for (const bad of ['', 'a', '-web', '_x', 'we b', 'web/1', 'é1']) refuses(validateContainerName, bad, /invalid container name/);
      // The front ends show the same rule as the user types; Docker's leading '/' is the CLI's and daemon's form only.
      assert.equal(containerNameProblem('web_1.prod-a'), undefined);
      for (const bad of ['a', '/web', 'we b']) assert.match(containerNameProblem(bad) ?? '', /at least 2 characters/);
    });
    it('hostnames (RFC 1123, ≤ 64)', () => {
      assert.equal(validateHostname('web-1.example.com'), 'web-1.example.com');
      assert.equal(validateHostname('a'.repeat(64)), 'a'.repeat(64));
      assert.equal(validateHostname('under_score'), 'under_score');
      for (const bad of ['', '-a', 'a-', 'a..b', '.a', 'a b', 'a\tb', 'a\n127.0.0.1 evil', 'a'.repeat(65), 'a#b']) {
        assert.throws(
          () => validateHostname(bad),
          (e: unknown) => isInvalidArgument(e),
          bad,
        );
      }
    });
  });

  describe('parseSignal', () => {
    const cases: [string, string, number][] = [
      ['TERM', 'SIGTERM', 15],
      ['SIGTERM', 'SIGTERM', 15],
      ['sigterm', 'SIGTERM', 15],
      ['term', 'SIGTERM', 15],
      ['15', 'SIGTERM', 15],
      ['9', 'SIGKILL', 9],
      ['KILL', 'SIGKILL', 9],
      ['SIGQUIT', 'SIGQUIT', 3],
      ['HUP', 'SIGHUP', 1],
      ['USR1', 'SIGUSR1', 10],
      ['USR2', 'SIGUSR2', 12],
      ['WINCH', 'SIGWINCH', 28],
      ['SIGSTOP', 'SIGSTOP', 19],
      ['CHLD', 'SIGCHLD', 17],
      ['CLD', 'SIGCHLD', 17],
      ['IOT', 'SIGABRT', 6],
      ['POLL', 'SIGIO', 29],
      ['SYS', 'SIGSYS', 31],
      ['RTMIN', 'SIGRTMIN', 34],
      ['SIGRTMIN+3', 'SIGRTMIN+3', 37],
      ['37', 'SIGRTMIN+3', 37],
      ['RTMAX', 'SIGRTMAX', 64],
      ['RTMAX-1', 'SIGRTMAX-1', 63],
      ['50', 'SIGRTMAX-14', 50],
      ['49', 'SIGRTMIN+15', 49],
    ];
    for (const [s, name, n] of cases) it(`${s} → ${name} (${n})`, () => assert.deepEqual(parseSignal(s), { name, number: n }));
    it('refuses unknown names and numbers', () => {
      for (const bad of ['', '0', '65', '32', '33', 'FOO', 'SIG', 'RTMIN+16', '-9', '1.5']) refuses(parseSignal, bad, /invalid signal/);
    });
    it('the table round-trips', () => {
      for (let n = 1; n <= 64; n++) {
        const name = signalName(n);
        if (n === 32 || n === 33) assert.equal(name, undefined);
        else assert.equal(signalNumber(name!), n, name);
      }
    });
  });
});
