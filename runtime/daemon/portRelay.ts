/**
 * gantryd's port-forward relay as an entry of gantryd's bundle
 * (runtime/daemon/entry.ts, `__port-relay`): gantryd runs it under nsenter
 * (runtime/network/forward/). Reached through daemon/ so that the entry
 * loads only the relay, not the daemon.
 */
export { portRelayMain, RELAY_COMMAND } from '../network/forward/relay';
