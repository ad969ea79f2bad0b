/**
 * CRI AuthConfig → the registry client's credentials. The kubelet sends the
 * pull secret that matched the image: a username and password, Docker's
 * `auth` (base64 of "user:password"), an identity (refresh) token or a
 * registry (bearer) token. When `server_address` names a registry the
 * credentials go only there, as containerd does, so a secret for one
 * registry never reaches another through a redirect to a different host.
 */
import type { AuthConfig } from './gen/runtime/v1/api';
import type { CredentialLookup, RegistryAuth } from '../distribution/distribution';
import { invalidArgument } from '../errdefs/errdefs';

/** Docker Hub's historical names for one registry. */
const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

export function registryAuthOf(auth: AuthConfig | undefined): RegistryAuth | undefined {
  if (!auth) return undefined;
  const out: RegistryAuth = {};
  if (auth.auth) {
    const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw invalidArgument('AuthConfig.auth is not base64 of "username:password"');
    out.username = decoded.slice(0, colon);
    out.password = decoded.slice(colon + 1);
  }
  if (auth.username) out.username = auth.username;
  if (auth.password) out.password = auth.password;
  if (auth.identityToken) out.identityToken = auth.identityToken;
  if (auth.registryToken) out.registryToken = auth.registryToken;
  return Object.keys(out).length ? out : undefined;
}

/** The host[:port] a `server_address` names: "https://r.example:5000/v1/" → "r.example:5000". */
export function serverHost(address: string): string {
  const withoutScheme = address.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  return withoutScheme.split('/')[0].toLowerCase();
}

function sameRegistry(a: string, b: string): boolean {
  return a === b || (DOCKER_HUB.has(a) && DOCKER_HUB.has(b));
}

export function credentialsOf(auth: AuthConfig | undefined): CredentialLookup | undefined {
  const creds = registryAuthOf(auth);
  if (!creds) return undefined;
  const only = auth?.serverAddress ? serverHost(auth.serverAddress) : undefined;
  return (host) => (only === undefined || sameRegistry(only, host.toLowerCase()) ? creds : undefined);
}
