/**
 * The daemon's logger: one line per record on stderr, logfmt-style
 * (`time level msg key=value`), so it reads well in a terminal and greps well
 * in a file. Levels: error < warn < info < debug.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}

export function isLogLevel(value: string): value is LogLevel {
  return value in ORDER;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const emit =
    (at: LogLevel) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (ORDER[at] > ORDER[level]) return;
      const parts = [new Date().toISOString(), at, JSON.stringify(msg)];
      for (const [key, value] of Object.entries(fields)) {
        if (value === undefined) continue;
        const text = value instanceof Error ? value.message : typeof value === 'string' ? value : JSON.stringify(value);
        parts.push(`${key}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`);
      }
      write(parts.join(' ') + '\n');
    };
  return { error: emit('error'), warn: emit('warn'), info: emit('info'), debug: emit('debug') };
}

export const silentLogger: Logger = createLogger('error', () => undefined);
