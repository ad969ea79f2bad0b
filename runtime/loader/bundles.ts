/**
 * The files of a built runtime (dist/, docs/performance.md "CLI start-up"):
 * `gantry.js`, the small loader users and scripts run, and the two bundles
 * it chooses between. The CLI's bundle holds only client code, so a CLI
 * call neither reads nor compiles gantryd's half of the runtime (the
 * registry client, snapshotters, CNI, the CRI…); gantryd's bundle serves
 * `gantry daemon` and the helpers gantryd starts itself.
 *
 * A copy of the runtime (the .vsix, an SSH host's bin dir, a system
 * install) is these three files plus `native/`.
 */
export const LOADER_FILE = 'gantry.js';
export const CLI_BUNDLE = 'gantry-cli.js';
export const DAEMON_BUNDLE = 'gantryd.js';

/** Every JavaScript file of a runtime copy, the loader first. */
export const RUNTIME_FILES: readonly string[] = [LOADER_FILE, CLI_BUNDLE, DAEMON_BUNDLE];

/**
 * First arguments that run gantryd's bundle; anything else is the CLI.
 * `__port-relay` is RELAY_COMMAND of runtime/network/forward/relay.ts
 * (a unit test keeps the two equal; importing it here would put the relay's
 * imports into the loader).
 */
export const DAEMON_COMMANDS: readonly string[] = ['daemon', '__port-relay'];

/** The bundle that serves `argv` (the arguments after the script). */
export function bundleFor(argv: readonly string[]): string {
  return DAEMON_COMMANDS.includes(argv[0] ?? '') ? DAEMON_BUNDLE : CLI_BUNDLE;
}
