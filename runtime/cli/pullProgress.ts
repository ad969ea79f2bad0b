/**
 * Pull and push progress as Docker draws them. On a terminal: one line per blob,
 * redrawn in place ("a1b2c3d4e5f6: Downloading [====>     ] 1.2MB/3.4MB").
 * Elsewhere (a log, a pipe): one line per status change, no redraws.
 */
import type { Writable } from 'node:stream';
import { BlobStatus, PushBlobStatus, type BlobProgress, type PushBlobProgress } from '../client';
import { formatSize, shortId } from '../presentation';

const LABEL: Record<BlobStatus, string> = {
  [BlobStatus.BLOB_STATUS_UNSPECIFIED]: '',
  [BlobStatus.BLOB_STATUS_WAITING]: 'Waiting',
  [BlobStatus.BLOB_STATUS_DOWNLOADING]: 'Downloading',
  [BlobStatus.BLOB_STATUS_VERIFYING]: 'Verifying Checksum',
  [BlobStatus.BLOB_STATUS_DONE]: 'Download complete',
  [BlobStatus.BLOB_STATUS_EXISTS]: 'Already exists',
  [BlobStatus.BLOB_STATUS_EXTRACTING]: 'Extracting',
  [BlobStatus.BLOB_STATUS_EXTRACTED]: 'Pull complete',
  [BlobStatus.UNRECOGNIZED]: '',
};

const PUSH_LABEL: Record<PushBlobStatus, string> = {
  [PushBlobStatus.PUSH_BLOB_STATUS_UNSPECIFIED]: '',
  [PushBlobStatus.PUSH_BLOB_STATUS_WAITING]: 'Waiting',
  [PushBlobStatus.PUSH_BLOB_STATUS_PREPARING]: 'Preparing',
  [PushBlobStatus.PUSH_BLOB_STATUS_PUSHING]: 'Pushing',
  [PushBlobStatus.PUSH_BLOB_STATUS_PUSHED]: 'Pushed',
  [PushBlobStatus.PUSH_BLOB_STATUS_EXISTS]: 'Layer already exists',
  [PushBlobStatus.PUSH_BLOB_STATUS_MOUNTED]: 'Mounted',
  [PushBlobStatus.UNRECOGNIZED]: '',
};

const BAR_WIDTH = 40;

export class PullProgressView {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private readonly lastStatus = new Map<string, string>();
  private drawn = 0;

  constructor(
    private readonly out: Writable,
    private readonly tty: boolean,
  ) {}

  update(blob: BlobProgress): void {
    const moving = blob.status === BlobStatus.BLOB_STATUS_DOWNLOADING;
    this.show(blob.digest, String(blob.status), LABEL[blob.status] ?? '', moving ? blob : undefined);
  }

  /** A push's blob, drawn the same way ("Pushing [==>  ] …", "Layer already exists", "Mounted from …"). */
  updatePush(blob: PushBlobProgress): void {
    const label =
      blob.status === PushBlobStatus.PUSH_BLOB_STATUS_MOUNTED && blob.mountedFrom
        ? `Mounted from ${blob.mountedFrom}`
        : (PUSH_LABEL[blob.status] ?? '');
    this.show(blob.digest, `push-${blob.status}`, label, blob.status === PushBlobStatus.PUSH_BLOB_STATUS_PUSHING ? blob : undefined);
  }

  /** One blob's line; `moving` carries the byte counts of a transfer in progress. */
  private show(digest: string, statusKey: string, label: string, moving: { offset: number; total: number } | undefined): void {
    const id = shortId(digest);
    if (!this.lines.has(id)) this.order.push(id);
    this.lines.set(id, `${id}: ${label}${moving ? this.bar(moving) : ''}`);
    if (this.tty) {
      this.redraw();
    } else if (this.lastStatus.get(id) !== statusKey) {
      this.lastStatus.set(id, statusKey);
      this.out.write(`${id}: ${label}${moving ? ` ${formatSize(moving.total)}` : ''}\n`);
    }
  }

  private bar(p: { offset: number; total: number }): string {
    if (!this.tty || p.total <= 0) return '';
    const done = Math.min(BAR_WIDTH, Math.floor((p.offset / p.total) * BAR_WIDTH));
    const bar = '='.repeat(Math.max(0, done - 1)) + (done > 0 ? '>' : '') + ' '.repeat(BAR_WIDTH - done);
    return ` [${bar}] ${formatSize(p.offset)}/${formatSize(p.total)}`;
  }

  private redraw(): void {
    // Move up over what we drew last time, then rewrite every line.
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const id of this.order) text += `\x1b[2K${this.lines.get(id)}\n`;
    this.drawn = this.order.length;
    this.out.write(text);
  }
}
