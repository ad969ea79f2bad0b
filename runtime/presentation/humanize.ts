/**
 * Human-readable sizes and durations, shared by the CLI and the extension so
 * both say the same thing. Sizes use SI units as Docker does ("1.2MB").
 * Durations are rounded coarsely ("5 minutes", "2 weeks") so that lists do
 * not change every second.
 */

const SIZE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

export function formatSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < SIZE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const text = unit === 0 ? String(value) : value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
  return `${text.replace(/\.0+$|(\.\d*?)0+$/, '$1')}${SIZE_UNITS[unit]}`;
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** Docker's units.BytesSize (what `docker stats` shows): powers of 1024, four significant digits ("1.5MiB", "7.781GiB"). */
export function bytesSize(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toPrecision(4))}${BINARY_UNITS[unit]}`;
}

/** "Less than a second", "5 seconds", "About a minute", "3 hours", "2 weeks", "3 months", "2 years". */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.round(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(seconds / 3600);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  const days = Math.floor(hours / 24);
  if (days < 7 * 2) return `${days} days`;
  if (days < 30 * 3) return `${Math.floor(days / 7)} weeks`;
  if (days < 365 * 2) return `${Math.floor(days / 30)} months`;
  return `${Math.floor(days / 365)} years`;
}

/** "5 minutes ago"; "N/A" for a missing or unparsable time. */
export function formatAgo(time: string | Date | undefined, now = Date.now()): string {
  if (!time) return 'N/A';
  const at = typeof time === 'string' ? Date.parse(time) : time.getTime();
  if (Number.isNaN(at)) return 'N/A';
  return `${formatDuration(Math.max(0, now - at))} ago`;
}
