import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";

/** A trusted proxy hop from TRUST_PROXY: one address, or a CIDR block. */
export interface TrustedHop {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/** The address a request is counted under, for the unpaid rate limit. */
export type ClientAddressOf = (req: IncomingMessage) => string;

/**
 * The client's address, as the trusted proxies in front of the gateway saw it. Without trusted
 * hops it is the TCP peer, and `X-Forwarded-For` is never read. With them, it walks the chain
 * from the gateway outwards (RFC 7239 §5.2 describes the same right-to-left reading of
 * X-Forwarded-For): while the current hop is trusted, the entry it appended is the next hop; the
 * first hop that is not trusted is the client. Entries left of it were written by the client and
 * are ignored, so a spoofed X-Forwarded-For changes nothing. An entry that is not an IP address
 * stops the walk at the proxy that wrote it.
 */
export function clientAddressOf(trusted: readonly TrustedHop[]): ClientAddressOf {
  if (trusted.length === 0) return (req) => bucketAddress(peerOf(req));
  const list = new BlockList();
  for (const hop of trusted) list.addSubnet(hop.address, hop.prefix, hop.family);
  const isTrusted = (address: string) => list.check(address, isIP(address) === 6 ? "ipv6" : "ipv4");
  return function clientAddress(req) {
    let hop = peerOf(req);
    const forwarded = req.headers["x-forwarded-for"];
    if (forwarded === undefined || !isTrusted(hop)) return bucketAddress(hop);
    // Node joins repeated X-Forwarded-For lines with ", " already; an array is joined the same way.
    const entries = [forwarded].flat().join(",").split(",");
    for (let i = entries.length - 1; i >= 0 && isTrusted(hop); i -= 1) {
      const entry = unmapped(stripPort(entries[i]?.trim() ?? ""));
      if (isIP(entry) === 0) break;
      hop = entry;
    }
    return bucketAddress(hop);
  };
}

function peerOf(req: IncomingMessage): string {
  return unmapped(req.socket.remoteAddress ?? "unknown");
}

/** `::ffff:192.0.2.1` (an IPv4 peer on a dual-stack socket, RFC 4291 §2.5.5.2) is 192.0.2.1. */
function unmapped(address: string): string {
  return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Some proxies append `192.0.2.1:4711` or `[2001:db8::1]:4711`. */
function stripPort(entry: string): string {
  if (entry.startsWith("[")) return entry.slice(1, entry.indexOf("]") === -1 ? undefined : entry.indexOf("]"));
  const colon = entry.indexOf(":");
  return colon !== -1 && colon === entry.lastIndexOf(":") ? entry.slice(0, colon) : entry;
}

/**
 * The bucket an address counts under. An IPv6 client usually holds a whole /64 (RFC 6177 §3
 * recommends at least that per site) and can pick any address in it, so IPv6 addresses are
 * counted per /64; IPv4 addresses one by one.
 */
export function bucketAddress(address: string): string {
  if (isIP(address) !== 6) return address;
  return `${expandIpv6(address).slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, as lowercase hex without leading zeros. */
function expandIpv6(address: string): string[] {
  const withoutZone = address.split("%")[0] ?? address;
  const [head = "", tail] = withoutZone.split("::");
  const groupsOf = (part: string) => (part === "" ? [] : part.split(":").flatMap(ipv4AsGroups));
  const left = groupsOf(head);
  const right = tail === undefined ? [] : groupsOf(tail);
  const zeros = Array.from({ length: Math.max(0, 8 - left.length - right.length) }, () => "0");
  return [...left, ...zeros, ...right].map((g) => Number.parseInt(g, 16).toString(16));
}

/** An embedded dotted IPv4 tail (`::1.2.3.4`) as its two groups. */
function ipv4AsGroups(group: string): string[] {
  if (!group.includes(".")) return [group];
  const [a = 0, b = 0, c = 0, d = 0] = group.split(".").map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}
