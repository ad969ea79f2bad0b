// TEMPORARY (issue 11): index, manifest and config parsing moved to
// runtime/oci/manifest.ts (gc/ needs it, and gc/ must not import images/,
// which imports gc/). This re-export keeps code written on other branches
// against the old path compiling; delete it once they are merged.
export * from '../oci/manifest';
