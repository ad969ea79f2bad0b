/** Bulk bytes beside gRPC on gantryd's raw socket (docs/files.md, "Large reads"). */
export { RawByteServer, type RawFileRange, type RawOffer, type RawSource } from './server';
export { openRaw, rawSocketOf, readRaw, type RawReader } from './client';
export { rawSocketPath } from './protocol';
