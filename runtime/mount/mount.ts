/**
 * A mount as snapshotters describe it (containerd's mount.Mount): enough to
 * call mount(2) later, or — for applying layers — to find the directories
 * behind it without mounting anything.
 *
 *   { type: 'bind', source: '/…/snapshots/3/fs', options: ['rbind', 'rw'] }
 *   { type: 'overlay', source: 'overlay',
 *     options: ['index=off', 'lowerdir=/…/2/fs:/…/1/fs', 'upperdir=/…/4/fs', 'workdir=/…/4/work'] }
 *
 * lowerdir lists the top-most layer first, as the kernel expects.
 */
export interface Mount {
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
}

export function optionValue(mount: Mount, key: string): string | undefined {
  const prefix = `${key}=`;
  return mount.options.find((o) => o.startsWith(prefix))?.slice(prefix.length);
}
