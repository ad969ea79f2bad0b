/**
 * What the Run… prompts accept, as pure functions (no VS Code): a command
 * line split into argv as a POSIX shell would split it — but nothing is
 * expanded and no shell ever sees it — the environment as KEY=VALUE words,
 * ports to publish as Docker's `-p` values (read by `runtime/options/`'s
 * parser, the one the daemon applies), and the container name (the rule every front end and the daemon share,
 * from `runtime/options/`). The restart policy names are
 * `runtime/options/`'s too. Splitting and the env words stay here: the CLI
 * gets its argv from the user's shell, and its `-e KEY` (the value taken from
 * the shell's environment) has no counterpart in a prompt.
 *
 * Splitting rules (those of `sh` for words, without expansion):
 *   - blanks separate words (and commas, where the caller asks: env lists);
 *   - 'single quotes' keep everything literally, up to the next ';
 *   - "double quotes" keep everything but \" \\ \$ \` and \<newline>;
 *   - a backslash outside quotes keeps the next character literally;
 *   - '' and "" make an empty word; quotes join with what touches them
 *     (a"b c"d is one word: ab cd);
 *   - an unclosed quote or a trailing backslash is an error.
 * `$VAR`, `*`, `~`, `;`, `|`, `&&` are plain characters: the argv is the
 * process's, exactly as typed.
 */
import { containerNameProblem, parsePublish } from '../../../runtime/options';

export class ArgvError extends Error {}

export interface SplitOptions {
  /** Commas separate words too (outside quotes). */
  readonly commas?: boolean;
}

export function splitArgs(text: string, options: SplitOptions = {}): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  const isSeparator = (ch: string) => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || (options.commas === true && ch === ',');
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (isSeparator(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new ArgvError(`unclosed ' at column ${i + 1}`);
      word += text.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`\n'.includes(text[j + 1])) {
          if (text[j + 1] !== '\n') word += text[j + 1];
          j++;
        } else {
          word += text[j];
        }
      }
      if (j >= text.length) throw new ArgvError(`unclosed " at column ${i + 1}`);
      inWord = true;
      i = j;
    } else if (ch === '\\') {
      if (i + 1 >= text.length) throw new ArgvError('a trailing \\ escapes nothing');
      // As in sh, backslash-newline joins lines.
      if (text[i + 1] !== '\n') {
        word += text[i + 1];
        inWord = true;
      }
      i++;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * "A=1 B='two words', C=" → ["A=1", "B=two words", "C="]. Words are split
 * by blanks and commas; quote a value that contains either. Throws
 * ArgvError naming the first word that is not KEY=VALUE.
 */
export function parseEnv(text: string): string[] {
  const words = splitArgs(text, { commas: true });
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0 || !ENV_KEY.test(word.slice(0, eq))) {
      throw new ArgvError(`"${word}" is not KEY=VALUE (quote values that contain blanks or commas)`);
    }
  }
  return words;
}

/** Undefined when `name` is usable ('' lets the daemon choose one), else why not. */
export function nameProblem(name: string): string | undefined {
  if (name === '') return undefined;
  return containerNameProblem(name);
}

/**
 * "8080:80, 127.0.0.1::53/udp 9000" → ["8080:80", "127.0.0.1::53/udp",
 * "9000"]: `-p` values separated by blanks or commas, each checked by the
 * daemon's own parser. Throws naming the first bad one.
 */
export function parsePorts(text: string): string[] {
  const specs = splitArgs(text, { commas: true });
  for (const spec of specs) parsePublish(spec);
  return specs;
}
