/**
 * Docker-style user input, read the same way by every front end (the
 * `gantry` CLI, the VS Code extension) and, where the daemon checks the same
 * thing, by the daemon: mounts and volumes, sizes, durations, signals, env and label
 * files, `--security-opt`, restart policies and container names. Pure
 * functions (the one file reader, for seccomp profiles, is handed in); a bad
 * value is an InvalidArgument that quotes it and says what was expected.
 *
 * This is input, not output: how the daemon's answers read to a person is
 * `runtime/presentation/`.
 */
export {
  parseCpus,
  parseDuration,
  parseEnvFile,
  parseLabelFile,
  parseLabels,
  parseMemory,
  parseSignal,
  parseTmpfs,
  validateHostname,
  type ParsedSignal,
} from './options';
export { parseMount, parseVolume, parseVolumesFrom, type ParsedMount } from './mountSpecs';
export { isGeneratedVolumeName, volumeNameProblem } from './volumeName';
export { parseSecurityOpts, type SecurityOptions } from './securityOpts';
export { isRestartPolicyName, parseRestartPolicy, RESTART_POLICY_NAMES, type RestartPolicy, type RestartPolicyName } from './restartPolicy';
export { containerNameProblem, validateContainerName } from './containerName';
export { applyConfigChanges, validateConfigChanges, type RunConfigFields } from './configChanges';
// Networking input, whose parsers live with the network code that applies them.
export { parsePublish, type PortSpec } from '../network/ports/publish';
export { parseCidr } from '../network/subnets';
export { networkNameProblem } from '../network/networkName';
