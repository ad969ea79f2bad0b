/**
 * gantry.v1.Registry's browsing calls (ListRegistries, ListRepositories,
 * ListTags, DeleteTag, Logout), for the Registries view and `gantry
 * registry` (docs/registries.md).
 *
 * Whose credentials: a request's own `auth` when it carries one, else the
 * daemon user's stored ones (`$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json` of the user gantryd runs as). For a host over SSH
 * that is the remote user's file, which is why this is a daemon API: the
 * registries a host is logged in to are the host's.
 */
import { invalidArgument, kindOf, type ErrorKind } from '../../errdefs/errdefs';
import { getCredentials, dockerConfigPath, listLogins, removeCredentials } from '../../distribution/credentials';
import type { Registry, RegistryAuth } from '../../distribution/distribution';
import { normalizeHost } from '../../distribution/hosts';
import { parseReference } from '../../distribution/reference';
import { repositoryOf } from '../../images/images';
import type { ImageService } from '../../images/service';
import type { RegistryAuth as WireAuth, RegistryServer } from '../gen/gantry/v1/images';
import type { HandlerAdapter } from '../server';
import { fromWireAuth } from './images';

/** Catalog answers that mean "not for you" rather than "broken": the view falls back to local images. */
const CATALOG_REFUSED = new Set<ErrorKind>(['Unauthenticated', 'PermissionDenied', 'NotFound', 'Unimplemented']);

type Browsing = Pick<RegistryServer, 'listRegistries' | 'listRepositories' | 'listTags' | 'deleteTag' | 'logout'>;

export function registryBrowsing(adapt: HandlerAdapter, registry: Registry, images: Pick<ImageService, 'list'>): Browsing {
  const credentials = async (domain: string, wire: WireAuth | undefined): Promise<RegistryAuth | undefined> =>
    fromWireAuth(wire) ?? (await getCredentials(domain));
  return {
    listRegistries: adapt.unary('ListRegistries', async () => {
      const logins = await listLogins();
      return {
        registries: logins.map((l) => ({ server: l.server, configKey: l.key, helper: l.helper ?? '', username: l.username ?? '' })),
        configPath: dockerConfigPath(),
      };
    }),
    listRepositories: adapt.unary('ListRepositories', async (ctx, request) => {
      if (!request.server) throw invalidArgument('list repositories needs a registry server');
      const server = normalizeHost(request.server);
      const auth = await credentials(server, request.auth);
      try {
        const repositories = await registry.catalog(ctx, server, auth, { pageSize: request.pageSize || undefined });
        return { repositories: [...new Set(repositories)].sort(), fromLocalImages: false, catalogError: '' };
      } catch (e) {
        const kind = kindOf(e);
        if (!kind || !CATALOG_REFUSED.has(kind)) throw e;
        return { repositories: localRepositories(images, server), fromLocalImages: true, catalogError: (e as Error).message };
      }
    }),
    listTags: adapt.unary('ListTags', async (ctx, request) => {
      // parseReference gives a bare repository the tag "latest": the tag is ignored here.
      const repo = parseReference(request.repository);
      if (repo.digest || hasTag(request.repository)) throw invalidArgument(`list tags takes a repository, not ${request.repository}`);
      const tags = await registry.tags(ctx, repo, await credentials(repo.domain, request.auth), {
        pageSize: request.pageSize || undefined,
      });
      return { tags };
    }),
    deleteTag: adapt.unary('DeleteTag', async (ctx, request) => {
      const ref = parseReference(request.reference);
      // Never "latest" by default: the tag to delete is spelled out.
      if (!hasTag(request.reference) || ref.digest) throw invalidArgument(`delete tag takes repository:tag, not ${request.reference}`);
      return { digest: await registry.deleteTag(ctx, ref, await credentials(ref.domain, request.auth)) };
    }),
    logout: adapt.unary('Logout', async (_ctx, request) => {
      if (!request.server) throw invalidArgument('logout needs a registry server');
      return { removed: await removeCredentials(normalizeHost(request.server)) };
    }),
  };
}

/** Whether a reference string spells a tag (a ':' after its last '/'). */
function hasTag(reference: string): boolean {
  const name = reference.split('@')[0];
  return name.lastIndexOf(':') > name.lastIndexOf('/');
}

/** Repository paths of `server` that local image records name, sorted. */
export function localRepositories(images: Pick<ImageService, 'list'>, server: string): string[] {
  const paths = new Set<string>();
  for (const image of images.list()) {
    try {
      const ref = parseReference(repositoryOf(image.name));
      if (ref.domain === server) paths.add(ref.path);
    } catch {
      // A record name that is no reference (an ID) names no repository.
    }
  }
  return [...paths].sort();
}
