/**
 * CNI results and errors (CNI spec 1.0.0, "Result" and "Error"; the 0.3.x and
 * 0.4.0 formats that user-provided configs may ask for have the same shape
 * apart from an `ips[].version` field, which is ignored).
 *
 * parseResult turns a plugin's stdout into a typed CniResult (InvalidArgument
 * when it is not one); parseError turns the error JSON of a failed plugin into
 * a CniError; summarize picks, for the container's interface, what
 * `inspect` shows: addresses, gateway, MAC.
 */
export interface CniInterface {
  readonly name: string;
  readonly mac?: string;
  /** The netns path for an interface inside the container; absent on the host side. */
  readonly sandbox?: string;
  readonly mtu?: number;
}

export interface CniIpConfig {
  /** CIDR notation: "10.88.0.5/16". */
  readonly address: string;
  readonly gateway?: string;
  /** Index into interfaces. */
  readonly interface?: number;
}

export interface CniRoute {
  readonly dst: string;
  readonly gw?: string;
}

export interface CniDns {
  readonly nameservers?: readonly string[];
  readonly domain?: string;
  readonly search?: readonly string[];
  readonly options?: readonly string[];
}

export interface CniResult {
  readonly cniVersion: string;
  readonly interfaces: readonly CniInterface[];
  readonly ips: readonly CniIpConfig[];
  readonly routes: readonly CniRoute[];
  readonly dns: CniDns;
}

/** A plugin's error (spec "Error"): code, msg, details. */
export interface CniErrorBody {
  readonly cniVersion?: string;
  readonly code: number;
  readonly msg: string;
  readonly details?: string;
}

/** The spec's well-known error codes (1-99 reserved). */
export const CNI_ERROR_CODES: Readonly<Record<number, string>> = {
  1: 'incompatible CNI version',
  2: 'unsupported field in network configuration',
  3: 'container unknown or does not exist',
  4: 'invalid necessary environment variables',
  5: 'I/O failure',
  6: 'failed to decode content',
  7: 'invalid network config',
  11: 'try again later',
};

/** What one network gave the container's interface. */
export interface AttachmentSummary {
  readonly interface: string;
  readonly mac: string;
  /** CIDRs of the container interface ("10.88.0.5/16"). */
  readonly addresses: readonly string[];
  readonly gateway: string;
}

class ParseError extends Error {}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ParseError(`${what} is not an object`);
  return v as Record<string, unknown>;
}
function arr(v: unknown, what: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ParseError(`${what} is not an array`);
  return v;
}
function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new ParseError(`${what} is not a string`);
  return v;
}
function optStr(v: unknown, what: string): string | undefined {
  return v === undefined || v === null || v === '' ? undefined : str(v, what);
}
function strs(v: unknown, what: string): string[] | undefined {
  return v === undefined || v === null ? undefined : arr(v, what).map((x, i) => str(x, `${what}[${i}]`));
}

/** Parses a result object (already JSON-decoded) or throws a plain Error saying what is wrong. */
export function resultFromJson(json: unknown): CniResult {
  try {
    const o = obj(json, 'result');
    const interfaces = arr(o.interfaces, 'interfaces').map((v, i) => {
      const x = obj(v, `interfaces[${i}]`);
      const mtu = typeof x.mtu === 'number' ? x.mtu : undefined;
      return {
        name: str(x.name, `interfaces[${i}].name`),
        mac: optStr(x.mac, `interfaces[${i}].mac`),
        sandbox: optStr(x.sandbox, `interfaces[${i}].sandbox`),
        ...(mtu ? { mtu } : {}),
      };
    });
    const ips = arr(o.ips, 'ips').map((v, i) => {
      const x = obj(v, `ips[${i}]`);
      const address = str(x.address, `ips[${i}].address`);
      if (!address.includes('/')) throw new ParseError(`ips[${i}].address ${address} is not in CIDR notation`);
      const iface = typeof x.interface === 'number' ? x.interface : undefined;
      return { address, gateway: optStr(x.gateway, `ips[${i}].gateway`), ...(iface !== undefined ? { interface: iface } : {}) };
    });
    const routes = arr(o.routes, 'routes').map((v, i) => {
      const x = obj(v, `routes[${i}]`);
      return { dst: str(x.dst, `routes[${i}].dst`), gw: optStr(x.gw, `routes[${i}].gw`) };
    });
    const d = o.dns === undefined || o.dns === null ? {} : obj(o.dns, 'dns');
    const dns: CniDns = {
      nameservers: strs(d.nameservers, 'dns.nameservers'),
      domain: optStr(d.domain, 'dns.domain'),
      search: strs(d.search, 'dns.search'),
      options: strs(d.options, 'dns.options'),
    };
    const result: CniResult = { cniVersion: optStr(o.cniVersion, 'cniVersion') ?? '', interfaces, ips, routes, dns };
    // Absent fields stay absent (not undefined), so a result equals its own
    // JSON round trip: attachment records store it, DEL passes it on.
    return JSON.parse(JSON.stringify(result)) as CniResult;
  } catch (e) {
    if (e instanceof ParseError) throw new Error(`not a CNI result: ${e.message}`);
    throw e;
  }
}

/** Parses a plugin's stdout as a result; throws a plain Error saying what is wrong. */
export function parseResult(stdout: string): CniResult {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new Error(`not a CNI result (not JSON): ${stdout.trim().slice(0, 200) || '(empty output)'}`);
  }
  return resultFromJson(json);
}

/** The error JSON a failed plugin prints, or undefined when stdout holds none. */
export function parseError(stdout: string): CniErrorBody | undefined {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const o = json as Record<string, unknown>;
  if (typeof o.code !== 'number' || typeof o.msg !== 'string') return undefined;
  return {
    cniVersion: typeof o.cniVersion === 'string' ? o.cniVersion : undefined,
    code: o.code,
    msg: o.msg,
    details: typeof o.details === 'string' && o.details !== '' ? o.details : undefined,
  };
}

/** One line for people: "msg: details (code 7, invalid network config)". */
export function describeError(e: CniErrorBody): string {
  const known = CNI_ERROR_CODES[e.code];
  const text = e.details && !e.msg.includes(e.details) ? `${e.msg}: ${e.details}` : e.msg;
  return `${text} (code ${e.code}${known ? `, ${known}` : ''})`;
}

/**
 * The container-side interface of a result (the first one with a sandbox,
 * else the one named `ifname`) and what belongs to it.
 */
export function summarize(result: CniResult, ifname: string): AttachmentSummary {
  let index = result.interfaces.findIndex((i) => i.sandbox !== undefined && i.name === ifname);
  if (index < 0) index = result.interfaces.findIndex((i) => i.sandbox !== undefined);
  if (index < 0) index = result.interfaces.findIndex((i) => i.name === ifname);
  const iface = index >= 0 ? result.interfaces[index] : undefined;
  const ips = result.ips.filter((ip) => ip.interface === undefined || ip.interface === index);
  return {
    interface: iface?.name ?? ifname,
    mac: iface?.mac ?? '',
    addresses: ips.map((ip) => ip.address),
    gateway: ips.find((ip) => ip.gateway)?.gateway ?? '',
  };
}
