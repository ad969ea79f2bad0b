/**
 * Entry point of dist/gantry.js: `gantry daemon …` runs gantryd, anything
 * else is the CLI. One bundle, so a remote host needs a single file.
 */
async function main(argv: string[]): Promise<number> {
  // Loaded on demand: a CLI call should not pay for evaluating the daemon's
  // modules (the registry client, snapshotters…), nor the daemon for the CLI's.
  // gantryd's port-forward relay, run under nsenter (runtime/network/forward/relay.ts).
  // It exits when idle or when gantryd goes (process.exit: nothing else of the CLI is loaded).
  if (argv[0] === '__port-relay') {
    const relay = require('./daemon/portRelay') as typeof import('./daemon/portRelay');
    return relay.portRelayMain(argv.slice(1)).then((code) => process.exit(code));
  }
  if (argv[0] === 'daemon') return (require('./daemon/main') as typeof import('./daemon/main')).daemonMain(argv.slice(1));
  return (require('./cli/cli') as typeof import('./cli/cli')).cliMain(argv);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`gantry: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
