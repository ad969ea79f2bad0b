/**
 * Named and anonymous volumes (Docker's `local` driver): the store under
 * the data root, the service behind `volume create|ls|inspect|rm|prune`,
 * and the container side (-v, --mount, --volumes-from, image VOLUMEs,
 * copy-up). Terms and rules: volumes.ts; design: docs/volumes.md.
 */
export { VolumeTopics, type CreateVolumeOptions, type VolumeInfo, type VolumeRecord, type VolumeUser } from './volumes';
export { LocalVolumeStore, checkLocalOptions } from './store';
export { VolumeService, type VolumeReferrer, type VolumeServiceDeps } from './service';
export { VolumeAttacher } from './containerVolumes';
export { copyUp } from './copyUp';
