/**
 * Volumes: directories gantryd keeps under its data root for containers to
 * mount, that outlive the containers (Docker's `local` volume driver).
 *
 * Terms
 * - A *volume* is a record (name, driver `local`, labels, options, created
 *   time, whether it is *anonymous*) and a data directory:
 *     <root>/volumes/<name>/volume.json   the record, written atomically
 *     <root>/volumes/<name>/_data         what containers see
 * - *Named* volumes are made by `volume create` or by a container's
 *   `-v NAME:/path` when missing; *anonymous* ones by `-v /path`,
 *   `--mount type=volume,target=/path` and an image's VOLUME, named with 64
 *   hex digits. `rm -v` and `--rm` remove a container's anonymous volumes.
 * - A container *uses* a volume when its record lists it
 *   (ContainerConfig.volumes) — running or not. Uses are read from the
 *   container records (which survive a daemon crash) plus the volumes held
 *   by creates in progress, so nothing else can go stale.
 * - *Options* (`--opt`): `type`, `device`, `o`, as Docker's local driver:
 *   with them `_data` is a mount point, mounted (mount(8) -t TYPE -o O
 *   DEVICE) when a container first needs it and unmounted when the volume
 *   is removed. Any other key is refused.
 * - *Copy-up*: a container made with an empty volume at a path where its
 *   image has content copies that content into the volume first (owners,
 *   modes, xattrs and links kept), unless the mount says `nocopy`.
 *
 * Rules
 * - Names: Docker's `[a-zA-Z0-9][a-zA-Z0-9_.-]+` (options/volumeName.ts).
 * - A volume in use is never removed, not even with force: `volume is in
 *   use - [ID…]` (FailedPrecondition).
 * - Create, remove and the record are atomic: a volume is made in a
 *   temporary directory and renamed into place, and removed by renaming it
 *   away first; leftovers of either are cleared at start-up.
 *
 * Design: docs/volumes.md.
 */

export interface VolumeRecord {
  readonly name: string;
  readonly driver: 'local';
  readonly labels: Readonly<Record<string, string>>;
  readonly options: Readonly<Record<string, string>>;
  /** ISO time. */
  readonly createdAt: string;
  readonly anonymous: boolean;
}

/** A container that uses a volume. */
export interface VolumeUser {
  readonly id: string;
  readonly name: string;
}

/** What list and inspect answer. */
export interface VolumeInfo extends VolumeRecord {
  /** The host directory containers see. */
  readonly mountpoint: string;
  readonly users: readonly VolumeUser[];
  /** Bytes of the files in it; -1 when not computed. */
  readonly size: number;
}

export interface CreateVolumeOptions {
  /** '' = a generated (64 hex) name. */
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly options?: Readonly<Record<string, string>>;
  readonly anonymous?: boolean;
}

/** Event topics; the event's id is the volume name. */
export const VolumeTopics = {
  create: '/volumes/create',
  destroy: '/volumes/destroy',
} as const;

/** The local driver's `--opt` keys. */
export const LOCAL_OPTION_KEYS = ['type', 'device', 'o'] as const;
