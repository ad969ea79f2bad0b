/**
 * gantryd's port-forward relay as an entry of dist/gantry.js (runtime/main.ts,
 * `__port-relay`): gantryd runs it under nsenter (runtime/network/forward/).
 * Reached through daemon/ so that main.ts starts only the CLI and the daemon's side.
 */
export { portRelayMain, RELAY_COMMAND } from '../network/forward/relay';
