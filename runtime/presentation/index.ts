/**
 * How Gantry's answers read to a person, the same in every front end (the
 * `gantry` CLI and the VS Code extension) and in the daemon's own messages:
 * container status text and state words, published ports, short IDs, image names in Docker's
 * familiar form, sizes and durations, and the pacing of progress shown
 * while work goes on (`throttle`). Pure functions of the values they are
 * given (and "now"): no I/O, no VS Code, no calls to the daemon.
 *
 * What a person types (options, names, restart policies) is read by
 * `runtime/options/`.
 */
export { healthName, humanDuration, statusName, statusText, type ContainerStateName, type HealthName } from './containerStatus';
export { bytesSize, formatAgo, formatDuration, formatSize } from './humanize';
export { shortId } from './ids';
export { createdByLine, createdByShort, ellipsis } from './history';
export { containerPortName, hostAddress, portLines, portsText } from './ports';
export { throttle, type Throttle } from './throttle';
export { displayName, displayRepository, imageReference, type ImageReference } from './imageNames';
