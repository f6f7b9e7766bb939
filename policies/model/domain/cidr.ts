import { Address4, Address6 } from "ip-address";

/**
 * IPv4 CIDR helpers over the `ip-address` library: parsing and validation, containment and overlap
 * (config checks and the NetworkPolicy reachability proof) and aligned subnet allocation (network
 * layout). The library does the parsing and the big-integer address arithmetic; these helpers only
 * name the operations the project needs.
 */
export interface Ipv4Range {
    /** The CIDR as written, normalised (`10.0.0.0/16`). */
    readonly cidr: string;
    /** First address, as an unsigned integer. */
    readonly first: bigint;
    /** Last address, as an unsigned integer. */
    readonly last: bigint;
    readonly prefixLength: number;
}

/** What an IPv4 CIDR looks like before it is parsed. */
const IPV4_CIDR = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;

/**
 * Parsed CIDRs by their text: a region's thousands of NetworkPolicies repeat a handful of them, and
 * parsing (big-integer arithmetic in `ip-address`) is most of the reachability proof's cost.
 */
const problems = new Map<string, string | undefined>();
const networks = new Map<string, Ipv4Range>();
/** ipv4Network's answers (host bits ignored), by text. */
const hostNetworks = new Map<string, Ipv4Range | undefined>();
const CACHE_LIMIT = 4096;

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, value);
    return value;
}

/** Why `cidr` is not a usable IPv4 network CIDR, or undefined when it is. */
export function cidrProblem(cidr: string): string | undefined {
    if (typeof cidr === "string" && problems.has(cidr)) return problems.get(cidr);
    const problem = findCidrProblem(cidr);
    return typeof cidr === "string" ? remember(problems, cidr, problem) : problem;
}

function findCidrProblem(cidr: string): string | undefined {
    if (typeof cidr !== "string" || !IPV4_CIDR.test(cidr)) {
        return `must be an IPv4 CIDR such as 10.0.0.0/16, got ${JSON.stringify(cidr)}`;
    }
    if (!Address4.isValid(cidr)) {
        return `is not a valid IPv4 CIDR, got ${JSON.stringify(cidr)}`;
    }
    const address = new Address4(cidr);
    if (address.startAddress().bigInt() !== address.bigInt()) {
        return `has host bits set: the network address of ${cidr} is ${address.startAddress().address}/${address.subnetMask}`;
    }
    return undefined;
}

/** Parses a network CIDR; throws on anything `cidrProblem` rejects. */
export function parseCidr(cidr: string): Ipv4Range {
    const known = networks.get(cidr);
    if (known) return known;
    const problem = cidrProblem(cidr);
    if (problem) throw new Error(`CIDR ${problem}`);
    return remember(networks, cidr, ipv4Network(cidr)!);
}

export function cidrsOverlap(a: string, b: string): boolean {
    const x = parseCidr(a);
    const y = parseCidr(b);
    return x.first <= y.last && y.first <= x.last;
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
    const o = parseCidr(outer);
    const i = parseCidr(inner);
    return o.first <= i.first && i.last <= o.last;
}

/**
 * The host address `offset` into a network, as a /32: the `kubernetes` Service's ClusterIP is the
 * service CIDR's first (offset 1), the VPC's DNS resolver the VPC CIDR's base plus two.
 */
export function hostAt(cidr: string, offset: number): string {
    const r = parseCidr(cidr);
    const address = r.first + BigInt(offset);
    if (address > r.last) throw new RangeError(`${cidr} has no address at offset ${offset}`);
    return `${Address4.fromBigInt(address).address}/32`;
}

/** Number of addresses in a CIDR. */
export function cidrSize(cidr: string): bigint {
    const r = parseCidr(cidr);
    return r.last - r.first + 1n;
}

export interface SubnetRequest {
    /** Key the caller uses to find the allocated CIDR again. */
    readonly key: string;
    /** Prefix length of the subnet to allocate (e.g. 18 for a /18). */
    readonly prefixLength: number;
}

/**
 * Allocates aligned, non-overlapping subnets inside `parent`, largest first so that alignment wastes
 */
export function allocateSubnets(parent: string, requests: readonly SubnetRequest[]): Map<string, string> {
    const range = parseCidr(parent);
    const ordered = [...requests].sort((a, b) => a.prefixLength - b.prefixLength);
    const result = new Map<string, string>();
    let next = range.first;
    for (const request of ordered) {
        if (request.prefixLength < range.prefixLength || request.prefixLength > 28) {
            throw new Error(
                `subnet /${request.prefixLength} for ${request.key} must be between /${range.prefixLength} and /28 inside ${range.cidr}`,
            );
        }
        const size = 1n << BigInt(32 - request.prefixLength);
        const aligned = ((next + size - 1n) / size) * size;
        if (aligned + size - 1n > range.last) {
            const total = requests.reduce((sum, r) => sum + (1n << BigInt(32 - r.prefixLength)), 0n);
            throw new Error(
                `the subnets need ${total} addresses but ${range.cidr} has ${range.last - range.first + 1n}: ` +
                    `use a larger VPC CIDR or smaller subnets`,
            );
        }
        result.set(request.key, `${Address4.fromBigInt(aligned).address}/${request.prefixLength}`);
        next = aligned + size;
    }
    return result;
}

/** The IPv4 network a CIDR names, host bits ignored; undefined for anything else (IPv6, not a CIDR). */
function ipv4Network(cidr: unknown): Ipv4Range | undefined {
    if (typeof cidr !== "string") return undefined;
    // ipBlockReaches asks for the same few blocks once per tenant pair: kept by their text, as parseCidr's are.
    if (hostNetworks.has(cidr)) return hostNetworks.get(cidr);
    return remember(hostNetworks, cidr, findIpv4Network(cidr));
}

function findIpv4Network(cidr: string): Ipv4Range | undefined {
    if (!IPV4_CIDR.test(cidr) || !Address4.isValid(cidr)) return undefined;
    const address = new Address4(cidr);
    return { cidr: `${address.startAddress().address}/${address.subnetMask}`, first: address.startAddress().bigInt(), last: address.endAddress().bigInt(), prefixLength: address.subnetMask };
}

/** True for an IPv6 CIDR such as `::/0` (NetworkPolicy ipBlocks may be either family). */
export function isIpv6Cidr(cidr: unknown): cidr is string {
    return typeof cidr === "string" && cidr.includes(":") && cidr.includes("/") && Address6.isValid(cidr);
}

/**
 * True when some address of `target` lies in `cidr` but in none of `excepts`: the NetworkPolicy
 * question "does this ipBlock reach anything in target?". Addresses of one family never reach the
 * other's, so an IPv6 block reaches no IPv4 target (pods, the metadata address) and an IPv6 except
 * carves nothing out of an IPv4 block. Host bits are ignored, as the API server's parser does; a
 * block that is not a CIDR at all reaches nothing: the API server rejects the policy, so it never exists.
 */
export function ipBlockReaches(target: string, cidr: string, excepts: readonly string[] = []): boolean {
    const t = ipv4Network(target);
    const c = ipv4Network(cidr);
    if (!t || !c) return false;
    const first = t.first > c.first ? t.first : c.first;
    const last = t.last < c.last ? t.last : c.last;
    if (first > last) return false;
    // Sweep the excepted ranges over [first, last]; any gap is reachable.
    const holes = [excepts]
        .flat()
        .map(ipv4Network)
        .filter((e): e is Ipv4Range => e !== undefined && e.last >= first && e.first <= last)
        .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    let next = first;
    for (const h of holes) {
        if (h.first > next) return true;
        if (h.last + 1n > next) next = h.last + 1n;
        if (next > last) return false;
    }
    return next <= last;
}
