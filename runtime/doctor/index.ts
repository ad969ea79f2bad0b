/**
 * `gantry doctor`'s door (docs/service.md): the checks of both modes over a
 * probe of this host or a fake one.
 */
export { runDoctor, type DoctorCheck, type DoctorMode, type DoctorReport } from './checks';
export { hostProbe, type DoctorProbe, type FileFacts } from './probe';
