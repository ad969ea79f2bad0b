/**
 * Entry of dist/gantryd.js (runtime/loader/bundles.ts): `gantry daemon …`
 * runs gantryd; `__port-relay` is gantryd's port-forward relay, run under
 * nsenter (runtime/network/forward/relay.ts), which exits when idle or when
 * gantryd goes (process.exit: nothing else of the daemon is loaded).
 */
import { runAsProcessMain } from '../util/processMain';

runAsProcessMain(async () => {
  const argv = process.argv.slice(2);
  if (argv[0] === '__port-relay') {
    // Loaded on demand: the relay should not pay for evaluating the daemon's modules.
    const relay = require('./portRelay') as typeof import('./portRelay');
    return relay.portRelayMain(argv.slice(1)).then((code) => process.exit(code));
  }
  if (argv[0] !== 'daemon') throw new Error(`gantryd's bundle runs "daemon" or "__port-relay", not ${JSON.stringify(argv[0] ?? '')}`);
  return (require('./main') as typeof import('./main')).daemonMain(argv.slice(1));
});
