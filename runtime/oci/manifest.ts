/**
 * Parsing and validating what registries send: indexes, manifests and image
 * configs (OCI image-spec, plus Docker schema2 which has the same shape).
 * Anything malformed or of a media type we cannot run is refused here with an
 * InvalidArgument that names the object, before a byte of it is trusted.
 */
import { invalidArgument } from '../errdefs/errdefs';
import {
  CONFIG_MEDIA_TYPES,
  INDEX_MEDIA_TYPES,
  LAYER_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  isDigest,
  type Descriptor,
  type Platform,
} from './descriptor';

export interface Index {
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface Manifest {
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface HealthcheckConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The runtime part of an image config (`config` in image-spec config.md). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: HealthcheckConfig;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: ContainerConfig;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
}

function parseJson(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw invalidArgument(`malformed ${what}: ${(e as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalidArgument(`malformed ${what}: not a JSON object`);
  return value as Record<string, unknown>;
}

function descriptor(value: unknown, what: string): Descriptor {
  const d = value as Partial<Descriptor> | null;
  if (!d || typeof d !== 'object') throw invalidArgument(`malformed ${what}: not a descriptor`);
  if (typeof d.mediaType !== 'string' || !d.mediaType) throw invalidArgument(`malformed ${what}: missing mediaType`);
  if (typeof d.digest !== 'string' || !isDigest(d.digest))
    throw invalidArgument(`malformed ${what}: invalid digest ${JSON.stringify(d.digest)}`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw invalidArgument(`malformed ${what}: invalid size ${JSON.stringify(d.size)}`);
  }
  return d as Descriptor;
}

/** The media type a document declares, falling back to the one the registry sent. */
function mediaTypeOf(doc: Record<string, unknown>, fallback: string): string {
  return typeof doc.mediaType === 'string' && doc.mediaType ? doc.mediaType : fallback;
}

export function parseIndex(bytes: Buffer, declaredType: string, what = 'index'): Index {
  const doc = parseJson(bytes, what);
  const mediaType = mediaTypeOf(doc, declaredType);
  if (!INDEX_MEDIA_TYPES.includes(mediaType)) throw invalidArgument(`${what} has media type ${mediaType}, not an index`);
  if (doc.schemaVersion !== 2) throw invalidArgument(`malformed ${what}: schemaVersion ${JSON.stringify(doc.schemaVersion)}, want 2`);
  if (!Array.isArray(doc.manifests)) throw invalidArgument(`malformed ${what}: manifests is not a list`);
  const manifests = doc.manifests.map((m, i) => descriptor(m, `${what} entry ${i}`));
  return { mediaType, manifests, annotations: doc.annotations as Record<string, string> | undefined };
}

export function parseManifest(bytes: Buffer, declaredType: string, what = 'manifest'): Manifest {
  const doc = parseJson(bytes, what);
  const mediaType = mediaTypeOf(doc, declaredType);
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) throw invalidArgument(`${what} has unsupported media type ${mediaType}`);
  if (doc.schemaVersion !== 2) throw invalidArgument(`malformed ${what}: schemaVersion ${JSON.stringify(doc.schemaVersion)}, want 2`);
  const config = descriptor(doc.config, `${what} config`);
  if (!CONFIG_MEDIA_TYPES.includes(config.mediaType)) {
    throw invalidArgument(`${what} config has unsupported media type ${config.mediaType} (not a runnable image)`);
  }
  if (!Array.isArray(doc.layers)) throw invalidArgument(`malformed ${what}: layers is not a list`);
  const layers = doc.layers.map((l, i) => {
    const layer = descriptor(l, `${what} layer ${i}`);
    if (!LAYER_MEDIA_TYPES.includes(layer.mediaType)) {
      throw invalidArgument(`${what} layer ${i} (${layer.digest}) has unsupported media type ${layer.mediaType}`);
    }
    return layer;
  });
  return { mediaType, config, layers, annotations: doc.annotations as Record<string, string> | undefined };
}

export function parseConfig(bytes: Buffer, what = 'image config'): ImageConfig {
  const doc = parseJson(bytes, what) as Partial<ImageConfig>;
  if (typeof doc.architecture !== 'string' || typeof doc.os !== 'string') {
    throw invalidArgument(`malformed ${what}: architecture and os are required`);
  }
  if (!doc.rootfs || doc.rootfs.type !== 'layers' || !Array.isArray(doc.rootfs.diff_ids)) {
    throw invalidArgument(`malformed ${what}: rootfs must be {type: "layers", diff_ids: [...]}`);
  }
  for (const id of doc.rootfs.diff_ids) {
    if (typeof id !== 'string' || !isDigest(id)) throw invalidArgument(`malformed ${what}: invalid diff_id ${JSON.stringify(id)}`);
  }
  return doc as ImageConfig;
}

export function configPlatform(config: ImageConfig): Platform {
  const p: Platform = { os: config.os, architecture: config.architecture };
  if (config.variant) p.variant = config.variant;
  return p;
}
