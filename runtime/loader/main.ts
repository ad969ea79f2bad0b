/**
 * Entry of dist/gantry.js, the file users, scripts and units run: it picks
 * the bundle that serves the command (runtime/loader/bundles.ts) and runs
 * it with a code cache. It stays small, because Node compiles all of it on
 * every call.
 */
import { bundleFor } from './bundles';
import { runBundle } from './codeCache';

runBundle(bundleFor(process.argv.slice(2)));
