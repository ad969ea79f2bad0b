import { strict as assert } from 'node:assert';
import { commitRunConfig } from '../../../runtime/containers/commitConfig';
import type { Container } from '../../../runtime/containers/containers';

type Input = Pick<Container, 'config' | 'imageConfig'>;
const base = (config: Partial<Input['config']>, imageConfig: Input['imageConfig']): Input => ({
  config: { image: 'x', env: [], labels: {}, ...config } as Input['config'],
  imageConfig,
});

describe('containers: the config commit records (Docker’s merge)', () => {
  it('keeps the image config when the run changed nothing', () => {
    const image = { Env: ['PATH=/bin'], Cmd: ['sh'], WorkingDir: '/w', User: 'app', ExposedPorts: { '80/tcp': {} } };
    assert.deepEqual(commitRunConfig(base({}, image)), image);
  });

  it('merges env by name, labels and --expose; takes the run’s user, workdir, cmd and stop signal', () => {
    const c = commitRunConfig(
      base(
        {
          env: ['A=2', 'B=1'],
          labels: { l: 'v' },
          expose: ['8080', '53/udp'],
          user: 'root',
          workingDir: '/srv',
          cmd: ['echo', 'hi'],
          stopSignal: 'SIGINT',
        },
        { Env: ['PATH=/bin', 'A=1'], Labels: { k: 'v' }, Entrypoint: ['/entry'], Cmd: ['sh'], ExposedPorts: { '80/tcp': {} } },
      ),
    );
    assert.deepEqual(c.Env, ['PATH=/bin', 'A=2', 'B=1']);
    assert.deepEqual(c.Labels, { k: 'v', l: 'v' });
    assert.deepEqual(Object.keys(c.ExposedPorts!), ['80/tcp', '8080/tcp', '53/udp']);
    assert.equal(c.User, 'root');
    assert.equal(c.WorkingDir, '/srv');
    assert.deepEqual(c.Entrypoint, ['/entry']);
    assert.deepEqual(c.Cmd, ['echo', 'hi']);
    assert.equal(c.StopSignal, 'SIGINT');
  });

  it('--entrypoint replaces the entrypoint and drops the image’s cmd; --entrypoint "" clears it; --no-healthcheck is NONE', () => {
    const image = { Entrypoint: ['/entry'], Cmd: ['arg'] };
    assert.deepEqual(commitRunConfig(base({ entrypoint: ['/other'] }, image)), { Entrypoint: ['/other'], Cmd: null });
    assert.deepEqual(commitRunConfig(base({ entrypoint: [''], cmd: ['sh'] }, image)), { Entrypoint: null, Cmd: ['sh'] });
    assert.deepEqual(commitRunConfig(base({ healthcheck: { disabled: true } }, {})).Healthcheck, { Test: ['NONE'] });
  });
});
