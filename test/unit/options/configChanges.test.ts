import { strict as assert } from 'node:assert';
import { isInvalidArgument } from '../../../runtime/errdefs/errdefs';
import { applyConfigChanges as apply, validateConfigChanges, type RunConfigFields } from '../../../runtime/options';

const applyConfigChanges = (c: RunConfigFields, changes: string[]) => apply(c, changes);

describe('options: --change instructions (commit, import)', () => {
  it('CMD and ENTRYPOINT take the JSON and the shell form', () => {
    assert.deepEqual(applyConfigChanges({}, ['CMD ["echo","hi"]']).Cmd, ['echo', 'hi']);
    assert.deepEqual(applyConfigChanges({}, ['cmd echo hi there']).Cmd, ['/bin/sh', '-c', 'echo hi there']);
    assert.deepEqual(applyConfigChanges({ Cmd: ['x'] }, ['ENTRYPOINT ["/app"]']), { Cmd: ['x'], Entrypoint: ['/app'] });
  });

  it('ENV and LABEL merge KEY=VALUE pairs (quotes group), ENV also takes the legacy "KEY value" form', () => {
    const c = applyConfigChanges({ Env: ['PATH=/bin', 'A=1'] }, ['ENV A=2 B="two words"', 'ENV C spaced value']);
    assert.deepEqual(c.Env, ['PATH=/bin', 'A=2', 'B=two words', 'C=spaced value']);
    assert.deepEqual(applyConfigChanges({ Labels: { a: '1' } }, ['LABEL b=2 "c d"=e']).Labels, { a: '1', b: '2', 'c d': 'e' });
  });

  it('EXPOSE, VOLUME, USER, WORKDIR (relative to the previous one), STOPSIGNAL', () => {
    const c = applyConfigChanges({ WorkingDir: '/srv' }, [
      'EXPOSE 80 53/udp 8000-8001',
      'VOLUME ["/data"]',
      'VOLUME /cache /logs',
      'USER app:app',
      'WORKDIR www',
      'STOPSIGNAL SIGINT',
    ]);
    assert.deepEqual(Object.keys(c.ExposedPorts!), ['80/tcp', '53/udp', '8000/tcp', '8001/tcp']);
    assert.deepEqual(Object.keys(c.Volumes!), ['/data', '/cache', '/logs']);
    assert.equal(c.User, 'app:app');
    assert.equal(c.WorkingDir, '/srv/www');
    assert.equal(c.StopSignal, 'SIGINT');
  });

  it('refuses ONBUILD, unknown instructions, bad JSON and a missing argument, each with a message', () => {
    for (const [change, message] of [
      ['ONBUILD RUN make', /ONBUILD is not supported/],
      ['RUN make', /"RUN" is not a supported instruction/],
      ['CMD ["a", 1]', /not a JSON list of strings/],
      ['EXPOSE http', /invalid port "http"/],
      ['VOLUME data', /not an absolute path/],
      ['USER', /USER needs an argument/],
      ['ENV =x', /is not KEY=VALUE/],
    ] as const) {
      assert.throws(
        () => validateConfigChanges([change]),
        (e: Error) => isInvalidArgument(e) && message.test(e.message),
        change,
      );
    }
  });
});
