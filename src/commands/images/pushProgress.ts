/**
 * Sums a push's per-blob progress into what the notification shows: bytes
 * sent (a blob the registry already had, or mounted, counts whole) of the
 * bytes announced so far, and how many blobs are done. As for a pull
 * (pullProgress.ts), the percentage never goes backwards.
 */
import { type PushBlobProgress, PushBlobStatus } from '../../../runtime/client';
import { formatSize } from '../../../runtime/presentation';

export interface PushProgressSnapshot {
  readonly sent: number;
  readonly total: number;
  readonly blobs: number;
  /** Blobs pushed, already present or mounted. */
  readonly complete: number;
  /** Of those, the ones the registry already had (nothing uploaded). */
  readonly skipped: number;
}

const DONE = new Set([
  PushBlobStatus.PUSH_BLOB_STATUS_PUSHED,
  PushBlobStatus.PUSH_BLOB_STATUS_EXISTS,
  PushBlobStatus.PUSH_BLOB_STATUS_MOUNTED,
]);
const SKIPPED = new Set([PushBlobStatus.PUSH_BLOB_STATUS_EXISTS, PushBlobStatus.PUSH_BLOB_STATUS_MOUNTED]);

export class PushProgressTracker {
  private readonly blobs = new Map<string, { sent: number; total: number; status: PushBlobStatus }>();
  private reportedPercent = 0;

  update(blob: PushBlobProgress): void {
    const total = Math.max(blob.total, blob.offset, this.blobs.get(blob.digest)?.total ?? 0);
    this.blobs.set(blob.digest, { sent: DONE.has(blob.status) ? total : blob.offset, total, status: blob.status });
  }

  snapshot(): PushProgressSnapshot {
    let sent = 0;
    let total = 0;
    let complete = 0;
    let skipped = 0;
    for (const b of this.blobs.values()) {
      sent += b.sent;
      total += b.total;
      if (DONE.has(b.status)) complete++;
      if (SKIPPED.has(b.status)) skipped++;
    }
    return { sent, total, blobs: this.blobs.size, complete, skipped };
  }

  /** "1.2MB / 3.4MB · 2 of 3 blobs" (", 1 already there" when the registry had some). */
  message(): string {
    const s = this.snapshot();
    if (s.blobs === 0) return '';
    const skipped = s.skipped ? ` (${s.skipped} already there)` : '';
    return `${formatSize(s.sent)} / ${formatSize(s.total)} · ${s.complete} of ${s.blobs} blobs${skipped}`;
  }

  /** The progress bar's increment since the last call (percent of bytes; 0 when it would go back). */
  advance(): number {
    const s = this.snapshot();
    const percent = s.total > 0 ? Math.min(100, (s.sent / s.total) * 100) : 0;
    const increment = Math.max(0, percent - this.reportedPercent);
    this.reportedPercent = Math.max(this.reportedPercent, percent);
    return increment;
  }
}
