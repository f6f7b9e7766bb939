import type { PathFact } from "./types";

/** Paths many charts and add-ons share, in the words the facts use. */

export const API_SERVER_PATH: PathFact = { peer: { kind: "apiServer" }, port: 443, why: "watches and reconciles through the Kubernetes API" };

/** Cluster DNS over UDP and TCP (large answers), for a reason. */
export function clusterDnsPaths(why = "resolves Service names"): PathFact[] {
    return [
        { peer: { kind: "clusterDns" }, port: 53, protocol: "UDP", why },
        { peer: { kind: "clusterDns" }, port: 53, protocol: "TCP", why: `${why} (large answers)` },
    ];
}

/** AWS APIs over HTTPS, with the DNS lookups of their endpoints' names (a pod's default dnsPolicy is ClusterFirst). */
export function awsApiPaths(why: string): PathFact[] {
    return [{ peer: { kind: "awsApis" }, port: 443, why }, ...clusterDnsPaths("resolves the AWS API endpoints' names")];
}

/**
 * Lustre between a client and FSx for Lustre file servers, both ways (LNet's 988 and 1018-1023): the
 * client connects to the servers, and a server connects back to the client's acceptor (the FSx for
 * Lustre guide's client security group rules admit the same ports from the file system's group).
 */
export function lustrePaths(why: string): { serves: PathFact[]; calls: PathFact[] } {
    const paths = (direction: string) => LUSTRE_PORTS.map((port): PathFact => ({ peer: { kind: "fileSystems" }, port, why: `${why} (${direction})` }));
    return { calls: paths("to the file servers"), serves: paths("the file servers call back") };
}

/**
 * Lustre's TCP ports: LNet's 988 and 1018-1023, which the file servers' security group must admit
 * from itself and from its clients (the FSx for Lustre guide's security group tables).
 */
export const LUSTRE_PORTS = [988, 1018, 1019, 1020, 1021, 1022, 1023] as const;
