import { type VersionServer, type VersionResponse } from '../gen/gantry/v1/version';
import type { HandlerAdapter } from '../server';

export function versionService(adapt: HandlerAdapter, describe: () => Promise<VersionResponse>): VersionServer {
  return {
    version: adapt.unary('Version', async () => describe()),
  };
}
