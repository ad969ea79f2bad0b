/**
 * What this machine allows for a runtime of its own. gantryd needs root (runc,
 * overlayfs), so only an extension host running as root can start it; the
 * views (a context key for their welcome content), the status-bar menu and
 * Start Runtime all ask here.
 */
export function canStartRuntime(): boolean {
  return process.getuid?.() === 0;
}
