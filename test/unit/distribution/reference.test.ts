// Reference parsing against the cases of distribution/reference's own tests
// (reference_test.go, normalize_test.go), as seen through Docker's
// normalisation (ParseNormalizedNamed + "latest" when untagged).
import * as assert from 'node:assert/strict';
import { isInvalidArgument } from '../../../runtime/errdefs/errdefs';
import { familiarName, familiarString, parseReference, withDigest, withTag } from '../../../runtime/distribution/reference';

const F64 = 'f'.repeat(64);
const HEX64 = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';
const D1 = 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';

interface Valid {
  input: string;
  /** Normalised toString(). */
  want: string;
  domain?: string;
  path?: string;
  tag?: string;
  digest?: string;
}

const valid: Valid[] = [
  { input: 'busybox', want: 'docker.io/library/busybox:latest', domain: 'docker.io', path: 'library/busybox', tag: 'latest' },
  { input: 'busybox:1.36', want: 'docker.io/library/busybox:1.36', tag: '1.36' },
  { input: 'library/busybox', want: 'docker.io/library/busybox:latest' },
  { input: 'docker.io/busybox', want: 'docker.io/library/busybox:latest' },
  { input: 'docker.io/library/busybox:latest', want: 'docker.io/library/busybox:latest' },
  { input: 'index.docker.io/debian', want: 'docker.io/library/debian:latest', domain: 'docker.io' },
  { input: 'index.docker.io/docker/docker', want: 'docker.io/docker/docker:latest' },
  { input: 'docker/docker', want: 'docker.io/docker/docker:latest', path: 'docker/docker' },
  { input: 'docker.io/library/foo/bar', want: 'docker.io/library/foo/bar:latest', path: 'library/foo/bar' },
  {
    input: '127.0.0.1:5000/test/busybox:nope',
    want: '127.0.0.1:5000/test/busybox:nope',
    domain: '127.0.0.1:5000',
    path: 'test/busybox',
    tag: 'nope',
  },
  { input: '127.0.0.1:5000/debian', want: '127.0.0.1:5000/debian:latest', path: 'debian' },
  { input: 'localhost/foo', want: 'localhost/foo:latest', domain: 'localhost', path: 'foo' },
  { input: 'localhost:5000/foo/bar:1', want: 'localhost:5000/foo/bar:1', domain: 'localhost:5000' },
  // A single element is never a host: "localhost:5000" is repository localhost, tag 5000.
  { input: 'localhost:5000', want: 'docker.io/library/localhost:5000', path: 'library/localhost', tag: '5000' },
  { input: 'test.com:5000', want: 'docker.io/library/test.com:5000', path: 'library/test.com', tag: '5000' },
  { input: '192.168.1.1', want: 'docker.io/library/192.168.1.1:latest' },
  { input: 'test_com', want: 'docker.io/library/test_com:latest' },
  { input: 'test_com/foo', want: 'docker.io/test_com/foo:latest', domain: 'docker.io' },
  { input: 'test.com/repo:tag', want: 'test.com/repo:tag', domain: 'test.com', path: 'repo' },
  { input: 'test-com:8080/foo', want: 'test-com:8080/foo:latest', domain: 'test-com:8080' },
  { input: `test:5000/repo@sha256:${F64}`, want: `test:5000/repo@sha256:${F64}`, tag: undefined, digest: `sha256:${F64}` },
  { input: `test:5000/repo:tag@sha256:${F64}`, want: `test:5000/repo:tag@sha256:${F64}`, tag: 'tag', digest: `sha256:${F64}` },
  { input: `busybox:latest@${D1}`, want: `docker.io/library/busybox:latest@${D1}`, tag: 'latest', digest: D1 },
  { input: `busybox@${D1}`, want: `docker.io/library/busybox@${D1}`, tag: undefined, digest: D1 },
  { input: 'lowercase:Uppercase', want: 'docker.io/library/lowercase:Uppercase', tag: 'Uppercase' },
  { input: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag', want: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag', path: 'bar/baz/quux' },
  {
    input: 'b.gcr.io/test.example.com/my-app:test.example.com',
    want: 'b.gcr.io/test.example.com/my-app:test.example.com',
    domain: 'b.gcr.io',
  },
  { input: 'xn--n3h.com/myimage:xn--n3h.com', want: 'xn--n3h.com/myimage:xn--n3h.com', domain: 'xn--n3h.com' },
  {
    input: `xn--7o8h.com/myimage:xn--7o8h.com@sha512:${'f'.repeat(128)}`,
    want: `xn--7o8h.com/myimage:xn--7o8h.com@sha512:${'f'.repeat(128)}`,
    digest: `sha512:${'f'.repeat(128)}`,
  },
  { input: 'foo/foo_bar.com:8080', want: 'docker.io/foo/foo_bar.com:8080', path: 'foo/foo_bar.com', tag: '8080' },
  { input: '192.168.1.1:5000/repo:5050', want: '192.168.1.1:5000/repo:5050', domain: '192.168.1.1:5000' },
  { input: '192.168.0.1:8/debian', want: '192.168.0.1:8/debian:latest' },
  { input: '[2001:db8::1]/repo', want: '[2001:db8::1]/repo:latest', domain: '[2001:db8::1]' },
  { input: '[2001:db8:1:2:3:4:5:6]/repo:tag', want: '[2001:db8:1:2:3:4:5:6]/repo:tag' },
  { input: '[::1]:5000/repo', want: '[::1]:5000/repo:latest', domain: '[::1]:5000' },
  { input: '[fc00::1]:5000/docker/docker', want: '[fc00::1]:5000/docker/docker:latest' },
  { input: 'docker---rules/docker', want: 'docker.io/docker---rules/docker:latest' },
  { input: 'dock__er/docker', want: 'docker.io/dock__er/docker:latest' },
  { input: 'd/docker', want: 'docker.io/d/docker:latest' },
  { input: 'jess/t', want: 'docker.io/jess/t:latest' },
  {
    input: 'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    want: 'docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest',
  },
  // 64 hex is refused only without a domain (it could be an image ID).
  { input: `docker.io/${HEX64}`, want: `docker.io/library/${HEX64}:latest` },
  { input: HEX64.slice(0, 63), want: `docker.io/library/${HEX64.slice(0, 63)}:latest` },
  // Docker's rule: an uppercase first element can't be a path, so it is a host.
  { input: 'Docker/docker', want: 'Docker/docker:latest', domain: 'Docker', path: 'docker' },
  // 255-character path: at the limit.
  { input: 'a/'.repeat(127) + 'a:tag', want: `docker.io/${'a/'.repeat(127)}a:tag`, domain: 'docker.io' },
  { input: 'busybox:' + 'x'.repeat(128), want: 'docker.io/library/busybox:' + 'x'.repeat(128) },
];

const invalid: [string, RegExp?][] = [
  ['', /at least one component/],
  [':justtag'],
  [`@sha256:${F64}`],
  ['repo@sha256:ffffffffffffffffffffffffffffffffff', /digest length/],
  [`validname@invaliddigest:${F64}`, /unsupported digest algorithm/],
  [`busybox@sha256:${F64.toUpperCase()}`, /lowercase hex/],
  ['Uppercase:tag', /must be lowercase/],
  ['test:5000/Uppercase/lowercase:tag', /must be lowercase/],
  ['docker/Docker', /must be lowercase/],
  ['docker.io/docker/Docker', /must be lowercase/],
  ['a/'.repeat(128) + 'a:tag', /not be more than 255/],
  ['aa/asdf$$^/aa'],
  ['[2001:db8::1]'],
  ['[2001:db8::1]:5000'],
  ['[2001:db8::1]:tag'],
  ['[fe80::1%eth0]:5000/repo'],
  ['[fe80::1%@invalidzone]:5000/repo'],
  ['[2001:db8:3:4::192.0.2.33]:5000/debian'],
  ['fc00::1:5000/debian'],
  ['https://github.com/docker/docker'],
  ['-docker'],
  ['-docker/docker'],
  ['-docker.io/docker/docker'],
  ['docker///docker'],
  ['docker.io/docker///docker'],
  [HEX64, /64-byte hexadecimal/],
  ['docker-/docker'],
  ['-docker-/docker'],
  ['____/____'],
  ['_docker/_docker'],
  ['dock..er/docker'],
  ['dock_.er/docker'],
  ['dock-.er/docker'],
  ['docker/'],
  ['busybox:'],
  ['busybox:-tag'],
  ['busybox:' + 'x'.repeat(129)],
  [Array(4).fill('this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255').join('_') + '/docker', /not be more than 255/],
  // Docker would accept this as a domain-less name; Gantry needs a registry host.
  ['a.b_c/d', /invalid registry host/],
  ['x'.repeat(2000), /longer than/],
];

describe('distribution/reference', () => {
  describe('parseReference: valid', () => {
    for (const c of valid) {
      it(JSON.stringify(c.input.length > 80 ? c.input.slice(0, 77) + '...' : c.input), () => {
        const ref = parseReference(c.input);
        assert.equal(ref.toString(), c.want);
        assert.equal(String(ref), c.want);
        assert.equal(ref.name, `${ref.domain}/${ref.path}`);
        if ('domain' in c) assert.equal(ref.domain, c.domain);
        if ('path' in c) assert.equal(ref.path, c.path);
        if ('tag' in c) assert.equal(ref.tag, c.tag);
        if ('digest' in c) assert.equal(ref.digest, c.digest);
        // Normal form is a fixed point.
        assert.equal(parseReference(c.want).toString(), c.want);
      });
    }
  });

  describe('parseReference: invalid → InvalidArgument', () => {
    for (const [input, message] of invalid) {
      it(JSON.stringify(input.length > 60 ? input.slice(0, 57) + '...' : input), () => {
        assert.throws(
          () => parseReference(input),
          (e: Error) => {
            assert.ok(isInvalidArgument(e), `kind of ${e.message}`);
            if (message) assert.match(e.message, message);
            return true;
          },
        );
      });
    }
  });

  describe('familiarName / familiarString', () => {
    const table: [string, string, string][] = [
      ['docker.io/library/ubuntu', 'ubuntu', 'ubuntu:latest'],
      ['ubuntu-12.04-base', 'ubuntu-12.04-base', 'ubuntu-12.04-base:latest'],
      ['docker.io/fooo/bar', 'fooo/bar', 'fooo/bar:latest'],
      ['other/library', 'other/library', 'other/library:latest'],
      ['docker.io/library/foo/bar', 'library/foo/bar', 'library/foo/bar:latest'],
      ['store/foo/bar', 'store/foo/bar', 'store/foo/bar:latest'],
      ['127.0.0.1:8000/private/moonbase', '127.0.0.1:8000/private/moonbase', '127.0.0.1:8000/private/moonbase:latest'],
      ['example.com:8000/privatebase', 'example.com:8000/privatebase', 'example.com:8000/privatebase:latest'],
      ['FOO/bar', 'FOO/bar', 'FOO/bar:latest'],
      [`busybox:latest@${D1}`, 'busybox', `busybox:latest@${D1}`],
      [`busybox@${D1}`, 'busybox', `busybox@${D1}`],
    ];
    for (const [input, name, full] of table) {
      it(`${input} → ${name}`, () => {
        const ref = parseReference(input);
        assert.equal(familiarName(ref), name);
        assert.equal(familiarString(ref), full);
      });
    }
  });

  it('withDigest keeps the tag; withTag drops the digest; both validate', () => {
    const ref = parseReference('127.0.0.1:5000/a/b:1');
    assert.equal(withDigest(ref, D1).toString(), `127.0.0.1:5000/a/b:1@${D1}`);
    assert.equal(withTag(withDigest(ref, D1), '2').toString(), '127.0.0.1:5000/a/b:2');
    assert.throws(
      () => withDigest(ref, 'sha256:abc'),
      (e: Error) => isInvalidArgument(e),
    );
    assert.throws(
      () => withTag(ref, '-x'),
      (e: Error) => isInvalidArgument(e),
    );
  });
});
