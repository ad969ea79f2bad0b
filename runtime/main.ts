/**
 * Entry point of dist/gantry.js: `gantry daemon …` runs gantryd, anything
 * else is the CLI. One bundle, so a remote host needs a single file.
 */
import { cliMain } from './cli/cli';
import { daemonMain } from './daemon/main';

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'daemon') return daemonMain(argv.slice(1));
  return cliMain(argv);
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
