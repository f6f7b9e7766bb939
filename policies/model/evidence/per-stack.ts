import { capacityFromResources, type PoolEvidence, type ResourceLike } from "./capacity-evidence";
import { namespacesFromResources, networkPoliciesFromResources, type NamespaceInfo, type NetworkPolicyInfo } from "./isolation-evidence";

/**
 * Evidence several stack policies read of the same resources, worked out once per stack analysis
 * instead of once per policy (a 1,000-tenant region has 5,000 NetworkPolicies and 800 ClusterQueues).
 * Keyed by the resources array itself: CrossGuard's analyzer (and the evaluator) hand every stack
 * policy of one analysis the same array, made afresh for each analysis, and policies only read it.
 * Pass only such an array (`args.resources`); the results are shared, so they are read-only. A
 * computation that throws (a value unknown during the preview) is not kept: the next policy to ask
 * computes it again and ends the same way.
 */
export function oncePerStack<T>(analyse: (resources: readonly ResourceLike[]) => T): (resources: readonly ResourceLike[]) => T {
    const cache = new WeakMap<readonly ResourceLike[], T>();
    return (resources) => {
        if (cache.has(resources)) return cache.get(resources)!;
        const result = analyse(resources);
        cache.set(resources, result);
        return result;
    };
}

/** `namespacesFromResources` of a stack policy's resources. */
export const stackNamespaces: (resources: readonly ResourceLike[]) => readonly Readonly<NamespaceInfo>[] = oncePerStack(namespacesFromResources);

/** `networkPoliciesFromResources` of a stack policy's resources. */
export const stackNetworkPolicies: (resources: readonly ResourceLike[]) => readonly Readonly<NetworkPolicyInfo>[] = oncePerStack(networkPoliciesFromResources);

/** `capacityFromResources` (every queue) of a stack policy's resources. */
export const stackCapacity: (resources: readonly ResourceLike[]) => readonly Readonly<PoolEvidence>[] = oncePerStack((resources) => capacityFromResources(resources));
