import { strict as assert } from 'node:assert';
import { isInvalidArgument } from '../../../runtime/errdefs/errdefs';
import { parseMount, parseVolume, parseVolumesFrom, volumeNameProblem } from '../../../runtime/options';

/** Throws InvalidArgument whose message matches `re`. */
function refuses(fn: (v: string) => unknown, value: string, re: RegExp): void {
  assert.throws(
    () => fn(value),
    (e: unknown) => isInvalidArgument(e) && re.test((e as Error).message),
    `${value} should be refused with ${String(re)}`,
  );
}

const bind = (source: string, destination: string, readOnly = false) => ({ type: 'bind', bind: { source, destination, readOnly } });

describe('mount options', () => {
  describe('parseVolume (-v)', () => {
    it('binds: src:dst and src:dst:ro|rw', () => {
      assert.deepEqual(parseVolume('/host/data:/data'), bind('/host/data', '/data'));
      assert.deepEqual(parseVolume('/host/data:/data:ro'), bind('/host/data', '/data', true));
      assert.deepEqual(parseVolume('/host/data/:/data/:rw'), bind('/host/data', '/data'));
      assert.deepEqual(parseVolume('/:/host:ro,cached'), bind('/', '/host', true));
      assert.deepEqual(parseVolume('/a/../b:/c/./d'), bind('/b', '/c/d'));
    });
    it('named volumes: NAME:dst[:ro][,nocopy]', () => {
      assert.deepEqual(parseVolume('data:/var/lib/app'), {
        type: 'volume',
        volume: { name: 'data', destination: '/var/lib/app', readOnly: false },
      });
      assert.deepEqual(parseVolume('my.vol_1-x:/d/:ro,nocopy'), {
        type: 'volume',
        volume: { name: 'my.vol_1-x', destination: '/d', readOnly: true, noCopy: true },
      });
    });
    it('anonymous volumes: a lone absolute path', () => {
      assert.deepEqual(parseVolume('/data/'), { type: 'volume', volume: { name: '', destination: '/data', readOnly: false } });
    });
    it('refuses bad specs with a reason', () => {
      refuses(parseVolume, './rel:/data', /absolute host path/);
      refuses(parseVolume, 'data', /not an absolute path/);
      refuses(parseVolume, '/a:rel', /not an absolute path/);
      refuses(parseVolume, '/a:/', /can't be '\/'/);
      refuses(parseVolume, '/a:/b:z', /invalid mode/);
      refuses(parseVolume, '/a:/b:nocopy', /invalid mode/);
      refuses(parseVolume, 'v1:/b:rshared', /invalid mode/);
      refuses(parseVolume, '/a:/b:ro,rw', /twice/);
      refuses(parseVolume, '/a:/b:ro:x', /invalid volume specification/);
      refuses(parseVolume, ':/b', /invalid volume specification/);
      refuses(parseVolume, '', /invalid volume specification/);
    });
    it('refuses hostile volume names', () => {
      for (const name of ['a', '-x', '_x', '.x', '..', 'a/b', 'a\\b', 'a b', 'a\u0000b', 'é1']) {
        refuses(parseVolume, `${name}:/d`, /invalid volume|invalid volume specification|absolute host path/);
      }
    });
  });

  describe('parseMount (--mount)', () => {
    it('type=volume is the default; source, target and volume keys', () => {
      assert.deepEqual(parseMount('source=data,target=/data'), {
        type: 'volume',
        volume: { name: 'data', destination: '/data', readOnly: false },
      });
      assert.deepEqual(parseMount('type=volume,src=data,dst=/d,readonly,volume-nocopy,volume-opt=type=tmpfs,volume-label=a=b'), {
        type: 'volume',
        volume: {
          name: 'data',
          destination: '/d',
          readOnly: true,
          noCopy: true,
          volumeOptions: { type: 'tmpfs' },
          volumeLabels: { a: 'b' },
        },
      });
      assert.deepEqual(parseMount('type=volume,target=/anon,ro=false'), {
        type: 'volume',
        volume: { name: '', destination: '/anon', readOnly: false },
      });
    });
    it('type=bind and type=tmpfs', () => {
      assert.deepEqual(
        parseMount('type=bind,source=/srv/,target=/srv,readonly=true,bind-propagation=rprivate'),
        bind('/srv', '/srv', true),
      );
      assert.deepEqual(parseMount('type=tmpfs,destination=/run,tmpfs-size=64m,tmpfs-mode=1770'), {
        type: 'tmpfs',
        tmpfs: { destination: '/run', options: [`size=${64 * 1024 * 1024}`, 'mode=1770'] },
      });
    });
    it("refuses with Docker's wording", () => {
      refuses(parseMount, 'type=volume,source=data', /^target is required$/);
      refuses(parseMount, 'type=bind,target=/a', /invalid mount config for type "bind": field Source must not be empty/);
      refuses(parseMount, 'type=bind,source=rel,target=/a', /mount path must be absolute/);
      refuses(parseMount, 'type=tmpfs,source=x,target=/a', /invalid mount config for type "tmpfs": field Source must not be specified/);
      refuses(parseMount, 'type=nfs,target=/a', /invalid mount config for type "nfs": mount type unknown/);
      refuses(parseMount, 'type=bind,source=/a,target=/b,volume-nocopy', /cannot mix 'volume-\*' options with mount type 'bind'/);
      refuses(parseMount, 'type=volume,target=/b,tmpfs-size=1m', /cannot mix 'tmpfs-\*' options with mount type 'volume'/);
      refuses(parseMount, 'type=volume,target=/b,bind-propagation=rshared', /cannot mix 'bind-\*' options/);
      refuses(parseMount, 'target=/b,bogus=1', /unexpected key 'bogus' in 'bogus=1'/);
      refuses(parseMount, 'target=/b,source', /invalid field 'source' must be a key=value pair/);
      refuses(parseMount, 'target=/b,readonly=maybe', /invalid value for readonly: maybe/);
      refuses(parseMount, 'type=bind,source=/a,target=/b,bind-propagation=rshared', /not supported/);
      refuses(parseMount, 'type=bind,source=/a,target=/b,bind-propagation=sideways', /invalid value for bind-propagation/);
      refuses(parseMount, 'type=tmpfs,target=/b,tmpfs-mode=999', /invalid value for tmpfs-mode/);
      refuses(parseMount, 'type=volume,source=../etc,target=/b', /invalid volume name/);
      refuses(parseMount, 'type=volume,target=/', /can't be '\/'/);
      refuses(parseMount, 'type=volume,target=/b,volume-driver=nfs', /only "local"/);
    });
  });

  describe('parseVolumesFrom', () => {
    it('CONTAINER[:ro|rw]', () => {
      assert.deepEqual(parseVolumesFrom('web'), { container: 'web', mode: '' });
      assert.deepEqual(parseVolumesFrom('web:ro'), { container: 'web', mode: 'ro' });
      refuses(parseVolumesFrom, 'web:z', /invalid mode for volumes-from: z/);
      refuses(parseVolumesFrom, ':ro', /no container named/);
    });
  });

  describe('volume names', () => {
    it("Docker's rule", () => {
      assert.equal(volumeNameProblem('data'), undefined);
      assert.equal(volumeNameProblem('a1.b_c-d'), undefined);
      assert.equal(volumeNameProblem('f'.repeat(64)), undefined);
      for (const bad of ['', 'a', '..', '.a', '-a', 'a/b', '/a', 'a:b', 'a\nb', 'x'.repeat(256)]) assert.ok(volumeNameProblem(bad), bad);
    });
  });
});
