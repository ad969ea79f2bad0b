/**
 * What runtime this machine's extension host can start: gantryd run by root
 * is rootful; run by any other user it goes rootless by itself, in a user
 * namespace under RootlessKit (docs/rootless.md). The views (a context key
 * for their welcome content), the status-bar menu and Start Runtime all ask
 * here.
 */
export type LocalRuntimeMode = 'rootful' | 'rootless';

export function localRuntimeMode(): LocalRuntimeMode {
  return process.getuid?.() === 0 ? 'rootful' : 'rootless';
}

/**
 * Whether Start Runtime can start a daemon here: on Linux, always — as root
 * the rootful one, otherwise a rootless one, or (when a prerequisite is
 * missing) the notification and walkthrough that say what to fix.
 */
export function canStartRuntime(): boolean {
  return process.platform === 'linux';
}
