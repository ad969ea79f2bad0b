/**
 * Sums a pull's per-blob progress into what the notification shows: bytes
 * downloaded of the bytes announced so far, and how many blobs are done.
 * Totals grow as the daemon announces blobs, so the percentage never counts
 * a blob before it is known (and never goes backwards: see `advance`).
 */
import { type BlobProgress, BlobStatus } from '../../../runtime/client';
import { formatSize } from '../../../runtime/presentation';

export interface PullProgressSnapshot {
  /** Bytes downloaded (or found in the store) over all blobs announced so far. */
  readonly downloaded: number;
  readonly total: number;
  readonly blobs: number;
  /** Blobs downloaded or already present. */
  readonly complete: number;
  /** Layers applied to snapshots. */
  readonly extracted: number;
  readonly layers: number;
}

interface BlobState {
  offset: number;
  total: number;
  status: BlobStatus;
  layer: boolean;
}

const DOWNLOADED = new Set([
  BlobStatus.BLOB_STATUS_DONE,
  BlobStatus.BLOB_STATUS_EXISTS,
  BlobStatus.BLOB_STATUS_EXTRACTING,
  BlobStatus.BLOB_STATUS_EXTRACTED,
]);

export class PullProgressTracker {
  private readonly blobs = new Map<string, BlobState>();
  private reportedPercent = 0;

  update(blob: BlobProgress): void {
    const total = Math.max(blob.total, blob.offset, this.blobs.get(blob.digest)?.total ?? 0);
    const offset = DOWNLOADED.has(blob.status) ? total : blob.offset;
    this.blobs.set(blob.digest, { offset, total, status: blob.status, layer: blob.role === 'layer' });
  }

  snapshot(): PullProgressSnapshot {
    let downloaded = 0;
    let total = 0;
    let complete = 0;
    let extracted = 0;
    let layers = 0;
    for (const b of this.blobs.values()) {
      downloaded += b.offset;
      total += b.total;
      if (DOWNLOADED.has(b.status)) complete++;
      if (b.layer) layers++;
      if (b.status === BlobStatus.BLOB_STATUS_EXTRACTED) extracted++;
    }
    return { downloaded, total, blobs: this.blobs.size, complete, extracted, layers };
  }

  /** "1.2MB / 3.4MB · 2 of 3 blobs", then "extracting 1 of 2 layers" once everything is downloaded. */
  message(): string {
    const s = this.snapshot();
    if (s.blobs === 0) return '';
    if (s.complete === s.blobs && s.layers > 0 && s.extracted < s.layers) {
      return `${formatSize(s.total)} downloaded · extracting ${s.extracted} of ${s.layers} layers`;
    }
    return `${formatSize(s.downloaded)} / ${formatSize(s.total)} · ${s.complete} of ${s.blobs} blobs`;
  }

  /** The progress bar's increment since the last call (percent of bytes; 0 when it would go back). */
  advance(): number {
    const s = this.snapshot();
    const percent = s.total > 0 ? Math.min(100, (s.downloaded / s.total) * 100) : 0;
    const increment = Math.max(0, percent - this.reportedPercent);
    this.reportedPercent = Math.max(this.reportedPercent, percent);
    return increment;
  }
}
