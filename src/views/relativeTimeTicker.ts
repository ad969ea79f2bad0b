/**
 * Keeps the clock-dependent texts of a view's items true ("Up 5 minutes",
 * "3 hours ago") without listing again and without per-second churn. After
 * each render the ticker arms one timer, for the earliest moment at which
 * any shown item's texts change; when it fires, it re-renders only the
 * items whose texts did change (onDidChangeTreeData with those elements),
 * then arms the next. VS Code drops a re-rendered item's resolved tooltip,
 * so the next hover resolves it again, as of then.
 *
 * `texts(node, now)` returns everything the node shows that depends on the
 * clock (description and tooltip times), joined: two renders that produce
 * the same string look the same.
 */
import type * as vscode from 'vscode';
import { nextTextChange, type Clock } from './clock';

export class RelativeTimeTicker<T extends object> implements vscode.Disposable {
  private shown: readonly T[] = [];
  private readonly rendered = new WeakMap<T, string>();
  private timer: vscode.Disposable | undefined;
  /** The time the timer is armed for (undefined: none): for tests. */
  nextTick: number | undefined;

  constructor(
    private clock: Clock,
    private readonly texts: (node: T, now: number) => string,
    private readonly fire: (nodes: T[]) => void,
  ) {}

  now(): number {
    return this.clock.now();
  }

  useClock(clock: Clock): void {
    this.clock = clock;
    this.arm();
  }

  /** The nodes the view shows now (the elements its last getChildren returned). */
  show(nodes: readonly T[]): void {
    this.shown = nodes;
    this.arm();
  }

  /** Records what `node` was rendered with, at `now`. */
  renderedAt(node: T, now: number): void {
    this.rendered.set(node, this.texts(node, now));
  }

  dispose(): void {
    this.timer?.dispose();
    this.timer = undefined;
    this.nextTick = undefined;
    this.shown = [];
  }

  private tick(): void {
    const now = this.clock.now();
    const changed = this.shown.filter((node) => {
      const before = this.rendered.get(node);
      return before !== undefined && before !== this.texts(node, now);
    });
    if (changed.length) this.fire(changed);
    this.arm();
  }

  private arm(): void {
    this.timer?.dispose();
    this.timer = undefined;
    this.nextTick = undefined;
    const now = this.clock.now();
    for (const node of this.shown) {
      const at = nextTextChange((time) => this.texts(node, time), now);
      if (at !== undefined && (this.nextTick === undefined || at < this.nextTick)) this.nextTick = at;
    }
    if (this.nextTick !== undefined) this.timer = this.clock.schedule(this.nextTick, () => this.tick());
  }
}
