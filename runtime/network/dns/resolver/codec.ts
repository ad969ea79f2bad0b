/**
 * The little of the DNS wire format (RFC 1035, AAAA from RFC 3596) the
 * embedded resolver needs: read a query's header and question, write an
 * answer with A, AAAA or PTR records, and frame messages over TCP (a
 * two-byte length before each). Everything we do not answer ourselves is
 * forwarded byte for byte, so nothing else is parsed. Pure.
 */

export const DnsType = { A: 1, PTR: 12, AAAA: 28, ANY: 255 } as const;
export const DnsClass = { IN: 1 } as const;
export const Rcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface Question {
  /** Lower-case, no trailing dot ("web", "5.0.200.10.in-addr.arpa"). */
  readonly name: string;
  /** As asked, for the echo in the answer (DNS names are case-insensitive, but clients compare). */
  readonly asked: string;
  readonly type: number;
  readonly class: number;
}

export interface Query {
  readonly id: number;
  /** The header's opcode (0: a standard query). */
  readonly opcode: number;
  /** Recursion desired. */
  readonly rd: boolean;
  /** A response, not a query (QR set). */
  readonly response: boolean;
  readonly questions: readonly Question[];
}

export interface DnsRecord {
  readonly type: number;
  readonly ttl: number;
  /** A: dotted quad; AAAA: an IPv6 address; PTR: a name. */
  readonly data: string;
}

export class DnsFormatError extends Error {}

/** The header and questions of a message; throws DnsFormatError when it is not one. */
export function parseQuery(msg: Uint8Array): Query {
  if (msg.length < 12) throw new DnsFormatError('shorter than a DNS header');
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const id = view.getUint16(0);
  const flags = view.getUint16(2);
  const qdcount = view.getUint16(4);
  const questions: Question[] = [];
  let offset = 12;
  for (let i = 0; i < qdcount; i++) {
    const { name, next } = readName(msg, offset);
    if (next + 4 > msg.length) throw new DnsFormatError('question cut short');
    questions.push({ name: name.toLowerCase(), asked: name, type: view.getUint16(next), class: view.getUint16(next + 2) });
    offset = next + 4;
  }
  return { id, opcode: (flags >> 11) & 0xf, rd: (flags & 0x0100) !== 0, response: (flags & 0x8000) !== 0, questions };
}

/** A name at `offset` (following compression pointers), and where the data after it starts. */
function readName(msg: Uint8Array, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let next = -1;
  let at = offset;
  for (let hops = 0; hops < 64; hops++) {
    if (at >= msg.length) throw new DnsFormatError('name runs past the message');
    const len = msg[at];
    if (len === 0) {
      if (next < 0) next = at + 1;
      return { name: labels.join('.'), next };
    }
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= msg.length) throw new DnsFormatError('compression pointer cut short');
      if (next < 0) next = at + 2;
      at = ((len & 0x3f) << 8) | msg[at + 1];
      continue;
    }
    if ((len & 0xc0) !== 0) throw new DnsFormatError('unknown label type');
    if (at + 1 + len > msg.length) throw new DnsFormatError('label runs past the message');
    labels.push(Buffer.from(msg.subarray(at + 1, at + 1 + len)).toString('latin1'));
    at += 1 + len;
  }
  throw new DnsFormatError('compression loop');
}

function writeName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.split('.').filter((l) => l !== '')) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length > 63) throw new DnsFormatError(`label longer than 63 bytes in ${JSON.stringify(name)}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function rdata(record: DnsRecord): Buffer {
  if (record.type === DnsType.A) return Buffer.from(record.data.split('.').map(Number));
  if (record.type === DnsType.AAAA) return ipv6Bytes(record.data);
  if (record.type === DnsType.PTR) return writeName(record.data);
  throw new DnsFormatError(`cannot write a record of type ${record.type}`);
}

function ipv6Bytes(text: string): Buffer {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const words = (s: string | undefined) => (s ? s.split(':') : []);
  const left = words(head);
  const right = words(tail);
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two words.
  const expand = (ws: string[]) =>
    ws.flatMap((w) => {
      if (!w.includes('.')) return [parseInt(w, 16)];
      const [a, b, c, d] = w.split('.').map(Number);
      return [(a << 8) | b, (c << 8) | d];
    });
  const l = expand(left);
  const r = expand(right);
  const all = tail === undefined ? l : [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  const out = Buffer.alloc(16);
  all.forEach((w, i) => out.writeUInt16BE(w & 0xffff, i * 2));
  return out;
}

export interface AnswerOptions {
  readonly rcode: number;
  /** Authoritative: names we hold (container names). */
  readonly authoritative?: boolean;
  readonly answers?: readonly DnsRecord[];
}

/** The response to `query`: its id, opcode, RD and first question echoed; RA set (we recurse by forwarding). */
export function buildResponse(query: Query, opts: AnswerOptions): Buffer {
  const question = query.questions[0];
  const answers = question ? (opts.answers ?? []) : [];
  const header = Buffer.alloc(12);
  let flags = 0x8000 | ((query.opcode & 0xf) << 11) | 0x0080 | (opts.rcode & 0xf);
  if (opts.authoritative) flags |= 0x0400;
  if (query.rd) flags |= 0x0100;
  header.writeUInt16BE(query.id, 0);
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(question ? 1 : 0, 4);
  header.writeUInt16BE(answers.length, 6);
  const parts: Buffer[] = [header];
  if (question) {
    const qname = writeName(question.asked);
    const fixed = Buffer.alloc(4);
    fixed.writeUInt16BE(question.type, 0);
    fixed.writeUInt16BE(question.class, 2);
    parts.push(qname, fixed);
    for (const a of answers) {
      const data = rdata(a);
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name at offset 12
      rr.writeUInt16BE(a.type, 2);
      rr.writeUInt16BE(DnsClass.IN, 4);
      rr.writeUInt32BE(a.ttl, 6);
      rr.writeUInt16BE(data.length, 10);
      parts.push(rr, data);
    }
  }
  return Buffer.concat(parts);
}

/** A bare error response when even the question cannot be read: the id and header only. */
export function errorForRaw(msg: Uint8Array, rcode: number): Buffer | undefined {
  if (msg.length < 2) return undefined;
  const header = Buffer.alloc(12);
  header[0] = msg[0];
  header[1] = msg[1];
  header.writeUInt16BE(0x8000 | 0x0080 | (rcode & 0xf), 2);
  return header;
}

/** The id of a message (to match an upstream answer to its query). */
export function messageId(msg: Uint8Array): number {
  return msg.length >= 2 ? (msg[0] << 8) | msg[1] : -1;
}

/** A message with its two-byte TCP length prefix. */
export function frame(msg: Uint8Array): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length, 0);
  return Buffer.concat([len, msg]);
}

/**
 * Splits a TCP byte stream into messages: feed it chunks, it returns the
 * complete messages so far and keeps the rest.
 */
export class TcpFramer {
  private pending = Buffer.alloc(0);

  push(chunk: Uint8Array): Buffer[] {
    this.pending = Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    while (this.pending.length >= 2) {
      const len = this.pending.readUInt16BE(0);
      if (this.pending.length < 2 + len) break;
      out.push(this.pending.subarray(2, 2 + len));
      this.pending = this.pending.subarray(2 + len);
    }
    return out;
  }
}

/** `10.200.0.5` → `5.0.200.10.in-addr.arpa` (the PTR name of an IPv4 address). */
export function reverseName(ipv4: string): string {
  return `${ipv4.split('.').reverse().join('.')}.in-addr.arpa`;
}

/** A standard query for `name` (tests, and a probe of a resolver). */
export function buildQuery(id: number, name: string, type: number, rd = true): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id & 0xffff, 0);
  header.writeUInt16BE(rd ? 0x0100 : 0, 2);
  header.writeUInt16BE(1, 4);
  const fixed = Buffer.alloc(4);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(DnsClass.IN, 2);
  return Buffer.concat([header, writeName(name), fixed]);
}

/** The rcode and the answers' data (A, AAAA, PTR) of a response (tests, probes). */
export function parseAnswers(msg: Uint8Array): { id: number; rcode: number; answers: DnsRecord[] } {
  const q = parseQuery(msg);
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const ancount = view.getUint16(6);
  let offset = 12;
  for (let i = 0; i < q.questions.length; i++) offset = readName(msg, offset).next + 4;
  const answers: DnsRecord[] = [];
  for (let i = 0; i < ancount; i++) {
    const at = readName(msg, offset).next;
    const type = view.getUint16(at);
    const ttl = view.getUint32(at + 4);
    const len = view.getUint16(at + 8);
    const body = at + 10;
    let data: string;
    if (type === DnsType.A) data = [...msg.subarray(body, body + 4)].join('.');
    else if (type === DnsType.AAAA) data = ipv6Text(msg.subarray(body, body + 16));
    else if (type === DnsType.PTR) data = readName(msg, body).name;
    else data = Buffer.from(msg.subarray(body, body + len)).toString('hex');
    answers.push({ type, ttl, data });
    offset = body + len;
  }
  return { id: q.id, rcode: view.getUint16(2) & 0xf, answers };
}

function ipv6Text(bytes: Uint8Array): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return words.join(':');
}
