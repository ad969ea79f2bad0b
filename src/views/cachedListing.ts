/**
 * One list call per refresh, for a tree view: the first caller after a
 * `drop()` lists, and every caller until the next drop shares that result
 * (VS Code's getChildren, a command's QuickPick, a test). A refresh that
 * comes while listing drops the pending call; its result still goes to the
 * callers that were waiting for it. A failure is a result too: the tree
 * shows it, and callers that need the items get it thrown.
 */
export type Listing<T> = { readonly items: readonly T[] } | { readonly error: unknown };

export class CachedListing<T> {
  private pending: Promise<Listing<T>> | undefined;

  /** `list` makes the call; `warn` logs why one failed. */
  constructor(
    private readonly list: () => Promise<readonly T[]>,
    private readonly warn: (e: unknown) => void,
  ) {}

  get(): Promise<Listing<T>> {
    this.pending ??= this.fetch();
    return this.pending;
  }

  /** The items; throws when listing failed. */
  async items(): Promise<readonly T[]> {
    const listing = await this.get();
    if ('error' in listing) throw listing.error;
    return listing.items;
  }

  /** Resolves once the list call in flight (if any) is done, whatever its outcome. */
  async settled(): Promise<void> {
    await this.pending;
  }

  /** The next get() lists again. */
  drop(): void {
    this.pending = undefined;
  }

  private async fetch(): Promise<Listing<T>> {
    try {
      return { items: await this.list() };
    } catch (e) {
      this.warn(e);
      return { error: e };
    }
  }
}
