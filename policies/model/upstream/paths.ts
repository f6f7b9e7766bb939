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
