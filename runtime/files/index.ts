/**
 * Files inside a container, an image layer or a volume, reached from the
 * daemon with no process in the container: a RootedFs is a tree whose every
 * path is resolved inside its root, links and `..` included, as the
 * container would resolve it — never onto the host. Design: docs/files.md.
 */
export {
  RootedFs,
  checkContainerPath,
  type FileInfo,
  type FileRange,
  type FileType,
  type Owner,
  type ReadOptions,
  type WriteOptions,
} from './rootedFs';
export { listingEntries, type DirectoryListing, type ListedLink, type ListingDetail, type StatColumns } from './listing';
export { cleanPath } from './resolve';
export { extractArchive, type ExtractOptions, type ExtractResult } from './archiveExtract';
export { assertsDirectory, entryBaseName, packArchive, type PackOptions } from './archivePack';
