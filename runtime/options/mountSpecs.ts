/**
 * The mount flags of `run`/`create`, read as Docker reads them:
 *
 * - `-v SRC:DST[:MODE]`: SRC an absolute host path is a bind; otherwise a
 *   volume name (made when missing). `-v /DST` alone is an anonymous volume.
 *   MODE is a comma list: `ro`/`rw`, `nocopy` (volumes only) and Docker's
 *   ignored consistency hints.
 * - `--mount type=volume|bind|tmpfs,source=…,target=…,readonly,…`: Docker's
 *   keys and its error wording (moby/cli opts/mount.go and the daemon's
 *   mount checks).
 * - `--volumes-from CONTAINER[:ro|rw]`.
 *
 * Pure: whether a bind source exists or a volume is there is the daemon's
 * check.
 */
import * as path from 'node:path';
import { invalidArgument } from '../errdefs/errdefs';
import type { BindMount, TmpfsMount, VolumeMount } from '../containers/containers';
import { mountDestination, validateTmpfsOption } from '../oci/specgen/mounts';
import { volumeNameProblem } from './volumeName';
import { parseMemory } from './options';

const q = (s: string) => JSON.stringify(s);

export type ParsedMount =
  | { readonly type: 'bind'; readonly bind: BindMount }
  | { readonly type: 'volume'; readonly volume: VolumeMount }
  | { readonly type: 'tmpfs'; readonly tmpfs: TmpfsMount };

function cleanHostPath(source: string, what: string): string {
  if (source.includes('\0')) throw invalidArgument(`${what}: source contains NUL`);
  // Binding the host's / is allowed (unlike mounting over the container's).
  return path.posix.normalize(source).replace(/(.)\/+$/, '$1');
}

/** `-v`: a bind (absolute SRC), a named volume (SRC a name) or an anonymous volume (one absolute path). */
export function parseVolume(spec: string): ParsedMount {
  const what = `volume ${q(spec)}`;
  const parts = spec.split(':');
  if (spec === '' || parts.length > 3 || (parts.length > 1 && (parts[0] === '' || parts[1] === ''))) {
    throw invalidArgument(`invalid volume specification: ${q(spec)}`);
  }
  if (parts.length === 1) {
    return { type: 'volume', volume: { name: '', destination: mountDestination(spec, what), readOnly: false } };
  }
  const [source, dest, mode = ''] = parts;
  const isBind = source.startsWith('/');
  if (!isBind && source.startsWith('.')) {
    throw invalidArgument(`invalid volume ${q(spec)}: ${q(source)} is neither a volume name nor an absolute host path`);
  }
  if (!isBind) {
    const problem = volumeNameProblem(source);
    if (problem) throw invalidArgument(`${what}: ${problem}; a host directory must be an absolute path`);
  }
  let readOnly = false;
  let rwSeen = false;
  let noCopy = false;
  for (const m of mode.split(',').filter((x) => x !== '')) {
    if (m === 'ro' || m === 'rw') {
      if (rwSeen) throw invalidArgument(`invalid mode ${q(mode)} in volume ${q(spec)}: ro and rw given twice`);
      rwSeen = true;
      readOnly = m === 'ro';
    } else if (m === 'nocopy' && !isBind) {
      noCopy = true;
    } else if (m === 'consistent' || m === 'cached' || m === 'delegated') {
      // Docker Desktop file-sharing hints; Docker on Linux ignores them too.
    } else {
      throw invalidArgument(`invalid mode ${q(m)} in volume ${q(spec)}: want ro or rw${isBind ? '' : ' (and nocopy)'}`);
    }
  }
  const destination = mountDestination(dest, what);
  if (isBind) return { type: 'bind', bind: { source: cleanHostPath(source, what), destination, readOnly } };
  return { type: 'volume', volume: { name: source, destination, readOnly, ...(noCopy ? { noCopy } : {}) } };
}

const BOOL_KEYS = new Set(['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive']);
const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);

function parseBool(key: string, value: string | undefined): boolean {
  if (value === undefined) return true;
  const v = value.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw invalidArgument(`invalid value for ${key}: ${value}`);
}

/** `--mount type=…,source=…,target=…,…` (Docker's keys; the type defaults to volume). */
export function parseMount(spec: string): ParsedMount {
  let type = 'volume';
  let source = '';
  let target = '';
  let readOnly = false;
  let noCopy = false;
  let propagation = '';
  const volumeOptions: Record<string, string> = {};
  const volumeLabels: Record<string, string> = {};
  const tmpfsOptions: string[] = [];
  const families = new Set<string>();
  for (const field of spec.split(',')) {
    if (field === '') continue;
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    if (value === undefined && !BOOL_KEYS.has(key)) throw invalidArgument(`invalid field '${field}' must be a key=value pair`);
    const family = /^(volume|bind|tmpfs)-/.exec(key)?.[1];
    if (family) families.add(family);
    switch (key) {
      case 'type':
        type = value!.toLowerCase();
        break;
      case 'source':
      case 'src':
        source = value!;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        target = value!;
        break;
      case 'readonly':
      case 'ro':
        readOnly = parseBool(key, value);
        break;
      case 'consistency':
        break;
      case 'bind-propagation':
        if (!PROPAGATIONS.has(value!)) throw invalidArgument(`invalid value for bind-propagation: ${value}`);
        propagation = value!;
        break;
      case 'bind-nonrecursive':
        if (parseBool(key, value)) throw invalidArgument('bind-nonrecursive is not supported: binds are recursive');
        break;
      case 'volume-driver':
        if (value !== 'local') throw invalidArgument(`volume driver ${q(value!)} is not supported: only "local"`);
        break;
      case 'volume-nocopy':
        noCopy = parseBool(key, value);
        break;
      case 'volume-label':
      case 'volume-opt': {
        const e = value!.indexOf('=');
        if (e <= 0) throw invalidArgument(`invalid value for ${key}: ${value} (want KEY=VALUE)`);
        (key === 'volume-opt' ? volumeOptions : volumeLabels)[value!.slice(0, e)] = value!.slice(e + 1);
        break;
      }
      case 'tmpfs-size':
        tmpfsOptions.push(`size=${parseMemory(value!)}`);
        break;
      case 'tmpfs-mode':
        if (!/^[0-7]{1,4}$/.test(value!)) throw invalidArgument(`invalid value for tmpfs-mode: ${value}`);
        tmpfsOptions.push(`mode=${value}`);
        break;
      default:
        throw invalidArgument(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (type !== 'volume' && type !== 'bind' && type !== 'tmpfs') {
    throw invalidArgument(`invalid mount config for type ${q(type)}: mount type unknown`);
  }
  if (target === '') throw invalidArgument('target is required');
  for (const family of families) {
    if (family !== type) throw invalidArgument(`cannot mix '${family}-*' options with mount type '${type}'`);
  }
  const what = `mount ${q(spec)}`;
  const destination = mountDestination(target, what);
  if (type === 'bind') {
    if (source === '') throw invalidArgument('invalid mount config for type "bind": field Source must not be empty');
    if (!source.startsWith('/')) {
      throw invalidArgument(`invalid mount config for type "bind": invalid mount path: '${source}' mount path must be absolute`);
    }
    if (propagation !== '' && propagation !== 'rprivate' && propagation !== 'private') {
      throw invalidArgument(`bind-propagation=${propagation} is not supported: binds are rprivate`);
    }
    return { type, bind: { source: cleanHostPath(source, what), destination, readOnly } };
  }
  if (type === 'tmpfs') {
    if (source !== '') throw invalidArgument('invalid mount config for type "tmpfs": field Source must not be specified');
    if (readOnly) tmpfsOptions.push('ro');
    for (const o of tmpfsOptions) validateTmpfsOption(o);
    return { type, tmpfs: { destination, options: tmpfsOptions } };
  }
  if (source !== '') {
    const problem = volumeNameProblem(source);
    if (problem) throw invalidArgument(`invalid mount config for type "volume": ${problem}`);
  }
  return {
    type,
    volume: {
      name: source,
      destination,
      readOnly,
      ...(noCopy ? { noCopy } : {}),
      ...(Object.keys(volumeOptions).length ? { volumeOptions } : {}),
      ...(Object.keys(volumeLabels).length ? { volumeLabels } : {}),
    },
  };
}

/** `--volumes-from CONTAINER[:ro|rw]`: the container and the mode to force ('' keeps each mount's own). */
export function parseVolumesFrom(spec: string): { container: string; mode: '' | 'ro' | 'rw' } {
  const colon = spec.indexOf(':');
  const container = colon < 0 ? spec : spec.slice(0, colon);
  const mode = colon < 0 ? '' : spec.slice(colon + 1);
  if (container === '') throw invalidArgument(`invalid --volumes-from ${q(spec)}: no container named`);
  if (mode !== '' && mode !== 'ro' && mode !== 'rw') throw invalidArgument(`invalid mode for volumes-from: ${mode}`);
  return { container, mode };
}
