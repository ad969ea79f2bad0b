/**
 * Build identity. esbuild replaces the two `process.env.GANTRY_BUILD_*`
 * reads with literals (see esbuild.js); unbundled (tsc-compiled tests) they
 * fall back to the package.json version.
 */
import * as os from 'node:os';

export const API_VERSION = '1';

export const GANTRY_VERSION: string = process.env.GANTRY_BUILD_VERSION || readPackageVersion();
export const GANTRY_REVISION: string = process.env.GANTRY_BUILD_REVISION || '';

/** What this build is and where it runs: shared by `gantry version` (client side) and the daemon's Version RPC. */
export function buildInfo() {
  return {
    version: GANTRY_VERSION,
    apiVersion: API_VERSION,
    revision: GANTRY_REVISION,
    nodeVersion: process.version,
    os: os.platform(),
    arch: os.arch(),
  };
}

function readPackageVersion(): string {
  try {
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0-dev';
  }
}
