/**
 * WWW-Authenticate parsing (RFC 7235 §4.1):
 *
 *   WWW-Authenticate = 1#challenge
 *   challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param       = token BWS "=" BWS ( token / quoted-string )
 *
 * One header may carry several challenges separated by commas, and a response
 * may carry several headers; both are flattened into one list in order.
 * Schemes and parameter names are case-insensitive and returned lowercased;
 * values keep their case. Garbage is skipped rather than thrown on: a
 * registry's odd header must not hide a usable challenge next to it.
 */

export interface Challenge {
  /** Lowercased: "basic", "bearer". */
  readonly scheme: string;
  /** Lowercased names → values (quotes removed, escapes resolved). */
  readonly params: Readonly<Record<string, string>>;
  /** The token68 form ("Negotiate abc=="), when used instead of params. */
  readonly token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*(?=[ \t]*(?:,|$))/;

export function parseChallenges(headers: string | readonly string[] | undefined): Challenge[] {
  if (headers === undefined) return [];
  const list = typeof headers === 'string' ? [headers] : headers;
  return list.flatMap((h) => new Parser(h).challenges());
}

class Parser {
  private pos = 0;
  constructor(private readonly s: string) {}

  challenges(): Challenge[] {
    const out: Challenge[] = [];
    for (;;) {
      this.skip(/[ \t,]/);
      if (this.end()) return out;
      const scheme = this.token();
      if (!scheme) {
        this.skipPastComma();
        continue;
      }
      out.push(this.rest(scheme.toLowerCase()));
    }
  }

  /** Everything after a scheme, up to the next challenge's scheme. */
  private rest(scheme: string): Challenge {
    const params: Record<string, string> = {};
    if (this.peek() === ' ' || this.peek() === '\t') {
      this.skip(/[ \t]/);
      const t68 = TOKEN68.exec(this.s.slice(this.pos));
      if (t68) {
        this.pos += t68[0].length;
        return { scheme, params, token68: t68[0] };
      }
    }
    for (;;) {
      const save = this.pos;
      this.skip(/[ \t,]/);
      if (this.end()) break;
      const name = this.token();
      if (!name) {
        this.skipPastComma();
        continue;
      }
      this.skip(/[ \t]/);
      if (this.peek() !== '=') {
        // A bare token is the next challenge's scheme.
        this.pos = save;
        break;
      }
      this.pos++;
      this.skip(/[ \t]/);
      params[name.toLowerCase()] = this.peek() === '"' ? this.quoted() : this.token();
    }
    return { scheme, params };
  }

  private token(): string {
    const start = this.pos;
    while (!this.end() && TCHAR.test(this.s[this.pos])) this.pos++;
    return this.s.slice(start, this.pos);
  }

  /** A quoted-string starting at the opening quote; an unterminated one runs to the end. */
  private quoted(): string {
    this.pos++;
    let value = '';
    while (!this.end()) {
      const c = this.s[this.pos++];
      if (c === '"') return value;
      if (c === '\\' && !this.end()) value += this.s[this.pos++];
      else value += c;
    }
    return value;
  }

  private skipPastComma(): void {
    while (!this.end() && this.s[this.pos] !== ',') this.pos++;
    if (!this.end()) this.pos++;
  }

  private skip(re: RegExp): void {
    while (!this.end() && re.test(this.s[this.pos])) this.pos++;
  }

  private peek(): string | undefined {
    return this.s[this.pos];
  }

  private end(): boolean {
    return this.pos >= this.s.length;
  }
}
