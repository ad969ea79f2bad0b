/**
 * Entry of dist/gantry-cli.js (runtime/loader/bundles.ts): every command
 * but `daemon`. Client code only: nothing here may import gantryd's modules.
 */
import { runAsProcessMain } from '../util/processMain';
import { cliMain } from './cli';

runAsProcessMain(() => cliMain(process.argv.slice(2)));
