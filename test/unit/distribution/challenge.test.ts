// WWW-Authenticate parsing: the shapes registries actually send (Docker Hub,
// distribution, GHCR, ECR) and the RFC 7235 corners around them.
import * as assert from 'node:assert/strict';
import { Challenge, parseChallenges } from '../../../runtime/distribution/challenge';

const cases: [string, string | string[] | undefined, Challenge[]][] = [
  ['undefined header', undefined, []],
  ['empty header', '', []],
  ['Basic with realm', 'Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
  [
    'Docker Hub Bearer',
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
    [
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
      },
    ],
  ],
  [
    'case-insensitive scheme and names, any order',
    'BEARER Service="svc", REALM="https://a/t"',
    [{ scheme: 'bearer', params: { service: 'svc', realm: 'https://a/t' } }],
  ],
  [
    'comma inside a quoted value',
    'Bearer realm="r",scope="repository:foo:pull,push"',
    [{ scheme: 'bearer', params: { realm: 'r', scope: 'repository:foo:pull,push' } }],
  ],
  [
    'escaped quotes and backslashes',
    'Bearer realm="say \\"hi\\" \\\\ bye",service=tok',
    [{ scheme: 'bearer', params: { realm: 'say "hi" \\ bye', service: 'tok' } }],
  ],
  [
    'two challenges in one header',
    'Bearer realm="https://a/token", Basic realm="b"',
    [
      { scheme: 'bearer', params: { realm: 'https://a/token' } },
      { scheme: 'basic', params: { realm: 'b' } },
    ],
  ],
  [
    'two challenges, the first without params',
    'Basic, Bearer realm="r"',
    [
      { scheme: 'basic', params: {} },
      { scheme: 'bearer', params: { realm: 'r' } },
    ],
  ],
  [
    'several headers',
    ['Basic realm="a"', 'Bearer realm="b",service="s"'],
    [
      { scheme: 'basic', params: { realm: 'a' } },
      { scheme: 'bearer', params: { realm: 'b', service: 's' } },
    ],
  ],
  [
    'whitespace around "=" and commas, empty list elements',
    'Bearer realm = "r" ,, service= s ,',
    [{ scheme: 'bearer', params: { realm: 'r', service: 's' } }],
  ],
  [
    'token68',
    'Negotiate YIIB+w/abc==, Basic realm="x"',
    [
      { scheme: 'negotiate', params: {}, token68: 'YIIB+w/abc==' },
      { scheme: 'basic', params: { realm: 'x' } },
    ],
  ],
  [
    'error params (insufficient_scope) are kept',
    'Bearer realm="r",service="s",scope="repository:a:pull",error="insufficient_scope"',
    [{ scheme: 'bearer', params: { realm: 'r', service: 's', scope: 'repository:a:pull', error: 'insufficient_scope' } }],
  ],
  ['unterminated quote runs to the end', 'Bearer realm="https://a/t', [{ scheme: 'bearer', params: { realm: 'https://a/t' } }]],
  ['garbage before a challenge is skipped', '"junk", Basic realm="x"', [{ scheme: 'basic', params: { realm: 'x' } }]],
  ['empty value', 'Basic realm=""', [{ scheme: 'basic', params: { realm: '' } }]],
  ['scheme only', 'Basic', [{ scheme: 'basic', params: {} }]],
];

describe('distribution/challenge: parseChallenges', () => {
  for (const [name, header, want] of cases) {
    it(name, () => {
      assert.deepEqual(parseChallenges(header), want);
    });
  }
});
