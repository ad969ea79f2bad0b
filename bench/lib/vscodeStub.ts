/**
 * A stand-in for the `vscode` module, so the views' providers can be timed
 * in plain Node (bench/views-render.ts). Importing this file installs it;
 * import it before anything that imports `vscode`. It has only what the
 * tree providers touch while building a tree — plain classes that hold what
 * they are given, as VS Code's own TreeItem and ThemeIcon do — so the time
 * measured is the providers' code, not VS Code's rendering.
 */
import Module from 'node:module';

class EventEmitter<T> {
  private listeners: ((e: T) => void)[] = [];
  readonly event = (listener: (e: T) => void) => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(e: T): void {
    for (const l of this.listeners) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

class TreeItem {
  id?: string;
  description?: string;
  contextValue?: string;
  iconPath?: unknown;
  tooltip?: unknown;
  command?: unknown;
  accessibilityInformation?: unknown;
  constructor(
    public label: string,
    public collapsibleState = 0,
  ) {}
}

class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: unknown,
  ) {}
}

class ThemeColor {
  constructor(readonly id: string) {}
}

class MarkdownString {
  constructor(public value = '') {}
  appendMarkdown(text: string): this {
    this.value += text;
    return this;
  }
}

class Disposable {
  constructor(private readonly fn: () => void) {}
  dispose(): void {
    this.fn();
  }
}

const stub = {
  EventEmitter,
  TreeItem,
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  ThemeIcon,
  ThemeColor,
  MarkdownString,
  Disposable,
  l10n: { t: (message: string, ...args: unknown[]) => message.replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i)])) },
  workspace: {
    getConfiguration: () => ({ get: <T>(_key: string, fallback: T) => fallback }),
    onDidChangeConfiguration: () => new Disposable(() => undefined),
  },
  commands: { executeCommand: async () => undefined },
};

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Load };
const original = loader._load;
loader._load = function (request, parent, isMain) {
  return request === 'vscode' ? stub : original.call(this, request, parent, isMain);
};
