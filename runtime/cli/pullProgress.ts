/**
 * Pull progress as Docker draws it. On a terminal: one line per blob,
 * redrawn in place ("a1b2c3d4e5f6: Downloading [====>     ] 1.2MB/3.4MB").
 * Elsewhere (a log, a pipe): one line per status change, no redraws.
 */
import type { Writable } from 'node:stream';
import { BlobStatus, type BlobProgress } from '../client';
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

const BAR_WIDTH = 40;

export class PullProgressView {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private readonly lastStatus = new Map<string, BlobStatus>();
  private drawn = 0;

  constructor(
    private readonly out: Writable,
    private readonly tty: boolean,
  ) {}

  update(blob: BlobProgress): void {
    const id = shortId(blob.digest);
    if (!this.lines.has(id)) this.order.push(id);
    const line = `${id}: ${LABEL[blob.status] ?? ''}${this.detail(blob)}`;
    this.lines.set(id, line);
    if (this.tty) {
      this.redraw();
    } else if (this.lastStatus.get(id) !== blob.status) {
      this.lastStatus.set(id, blob.status);
      this.out.write(
        `${id}: ${LABEL[blob.status] ?? ''}${blob.status === BlobStatus.BLOB_STATUS_DOWNLOADING ? ` ${formatSize(blob.total)}` : ''}\n`,
      );
    }
  }

  private detail(blob: BlobProgress): string {
    if (blob.status !== BlobStatus.BLOB_STATUS_DOWNLOADING || !this.tty || blob.total <= 0) return '';
    const done = Math.min(BAR_WIDTH, Math.floor((blob.offset / blob.total) * BAR_WIDTH));
    const bar = '='.repeat(Math.max(0, done - 1)) + (done > 0 ? '>' : '') + ' '.repeat(BAR_WIDTH - done);
    return ` [${bar}] ${formatSize(blob.offset)}/${formatSize(blob.total)}`;
  }

  private redraw(): void {
    // Move up over what we drew last time, then rewrite every line.
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const id of this.order) text += `\x1b[2K${this.lines.get(id)}\n`;
    this.drawn = this.order.length;
    this.out.write(text);
  }
}
