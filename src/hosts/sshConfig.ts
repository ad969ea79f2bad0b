/**
 * The `Host` entries of an OpenSSH client config, for the Connect to Host…
 * list. Only what that list needs is read: the concrete host names of each
 * `Host` line (patterns with `*`, `?` or `!` are rules, not hosts) and the
 * block's own HostName/User/Port for the description. Everything else —
 * what ssh will actually do with the name — stays ssh's business: Gantry
 * hands the alias to the system `ssh`, which reads the config itself.
 *
 * Syntax as ssh_config(5) has it: `Keyword args` or `Keyword=args`,
 * keywords in any case, `#` comments, double-quoted arguments, `Match`
 * blocks (their Host lines do not exist: Match has none), and `Include` with
 * several paths, `~`, globs, and relative paths taken from ~/.ssh (ssh's rule
 * for user configs; a `-F` file counts as one). Includes nest at most 16
 * deep, as in ssh, which also ends include loops.
 *
 * Missing or unreadable files are skipped without an error: a machine with
 * no ~/.ssh (a fresh container, the server side of a Remote-SSH workspace)
 * simply has no hosts to list. No VS Code imports; file access is passed in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface SshConfigHost {
  /** What the user picks and ssh resolves: the name on the Host line. */
  readonly alias: string;
  /** The block's HostName / User / Port, when it sets them. */
  readonly hostName?: string;
  readonly user?: string;
  readonly port?: number;
  /** The file whose Host line named it. */
  readonly file: string;
}

/** File access for the parser (tests pass an in-memory one). */
export interface ConfigFiles {
  /** The file's text, or undefined when it cannot be read. */
  readFile(file: string): string | undefined;
  /** The names in a directory, or undefined when it cannot be read. */
  readDir(dir: string): readonly string[] | undefined;
}

export const nodeConfigFiles: ConfigFiles = {
  readFile: (file) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  },
  readDir: (dir) => {
    try {
      return fs.readdirSync(dir);
    } catch {
      return undefined;
    }
  },
};

const MAX_INCLUDE_DEPTH = 16;

/** The hosts `file` names (following its Includes), in order of first appearance, each once. */
export function readSshConfigHosts(file: string, home: string, files: ConfigFiles = nodeConfigFiles): SshConfigHost[] {
  const found = new Map<string, { file: string; block: Block }>();
  readFile(file, 0, { home, files, found });
  // The block that named a host first describes it; its values were filled in as its lines were read.
  return [...found].map(([alias, { file: from, block }]) => ({
    alias,
    file: from,
    ...(block.hostName !== undefined ? { hostName: block.hostName } : {}),
    ...(block.user !== undefined ? { user: block.user } : {}),
    ...(block.port !== undefined ? { port: block.port } : {}),
  }));
}

interface ReadState {
  readonly home: string;
  readonly files: ConfigFiles;
  readonly found: Map<string, { file: string; block: Block }>;
}

interface Block {
  hostName?: string;
  user?: string;
  port?: number;
}

function readFile(file: string, depth: number, state: ReadState): void {
  const text = state.files.readFile(file);
  if (text === undefined) return;
  // Lines before the first Host or Match apply to every host: no block of ours.
  let block: Block | undefined;
  for (const line of text.split(/\r?\n/)) {
    const parsed = parseConfigLine(line);
    if (!parsed) continue;
    const { keyword, args } = parsed;
    switch (keyword) {
      case 'host':
        block = {};
        for (const alias of args.filter(isConcreteHost)) if (!state.found.has(alias)) state.found.set(alias, { file, block });
        break;
      case 'match':
        block = undefined;
        break;
      case 'include':
        if (depth + 1 >= MAX_INCLUDE_DEPTH) break;
        for (const arg of args) {
          for (const included of expandInclude(arg, state)) readFile(included, depth + 1, state);
        }
        break;
      // ssh takes the first value it obtains for each keyword.
      case 'hostname':
        if (block && block.hostName === undefined && args[0]) block.hostName = args[0];
        break;
      case 'user':
        if (block && block.user === undefined && args[0]) block.user = args[0];
        break;
      case 'port':
        if (block && block.port === undefined && /^\d{1,5}$/.test(args[0] ?? '')) block.port = Number(args[0]);
        break;
    }
  }
}

/** A name, not a pattern: no wildcard, no negation, nothing ssh would not accept as a host. */
function isConcreteHost(pattern: string): boolean {
  return pattern !== '' && !/[*?!]/.test(pattern) && !/[\s\x00-\x1f\x7f]/.test(pattern) && !pattern.startsWith('-');
}

/**
 * One config line as keyword (lower case) and arguments; undefined for
 * blank and comment lines. `Keyword=value` and `Keyword value` are the same;
 * "double quoted" arguments may hold spaces.
 */
export function parseConfigLine(line: string): { keyword: string; args: string[] } | undefined {
  const trimmed = line.trim();
  if (!trimmed || trimmed.startsWith('#')) return undefined;
  const m = /^([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+|$)(.*)$/.exec(trimmed);
  if (!m) return undefined;
  const args: string[] = [];
  const rest = m[2];
  const re = /"([^"]*)"|(\S+)/g;
  for (let a = re.exec(rest); a; a = re.exec(rest)) {
    // An unquoted # starts a comment (ssh ≥ 7.x honours trailing comments).
    if (a[2]?.startsWith('#')) break;
    args.push(a[1] ?? a[2]);
  }
  return { keyword: m[1].toLowerCase(), args };
}

/** The files one Include argument names: `~` expanded, relative to ~/.ssh, globs matched. */
function expandInclude(arg: string, state: ReadState): string[] {
  let p = arg;
  if (p === '~' || p.startsWith('~/')) p = path.join(state.home, p.slice(1));
  else if (!path.isAbsolute(p)) p = path.join(state.home, '.ssh', p);
  return expandGlob(path.normalize(p), state.files);
}

/** glob(3) for `*`, `?` and `[...]`, one directory level at a time; sorted, as glob returns them. */
export function expandGlob(pattern: string, files: ConfigFiles): string[] {
  const parts = pattern.split('/');
  let bases = [parts[0] === '' ? '/' : parts[0]];
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    if (!/[*?[]/.test(part)) {
      bases = bases.map((b) => path.join(b, part));
      continue;
    }
    const re = globToRegExp(part);
    const next: string[] = [];
    for (const base of bases) {
      for (const name of [...(files.readDir(base) ?? [])].sort()) {
        // As in glob(3): a leading dot must be matched explicitly.
        if (name.startsWith('.') && !part.startsWith('.')) continue;
        if (re.test(name)) next.push(path.join(base, name));
      }
    }
    bases = next;
  }
  return bases;
}

function globToRegExp(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = part.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let set = part.slice(i + 1, close);
      if (set.startsWith('!')) set = `^${set.slice(1)}`;
      re += `[${set.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
