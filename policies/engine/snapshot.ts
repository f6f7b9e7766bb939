/**
 * A resource as the offline plan records it and the evaluator reads it: what the engine would send
 * CrossGuard for one resource during a preview. Values unknown during the preview are the engine's
 * unknown sentinel strings; secrets are the engine's `{ <sig>: <secret sig>, value }` wrappers.
 */
export interface ResourceSnapshot {
    /** The engine URN: `urn:pulumi:<stack>::<project>::<parent type chain$type>::<name>`. */
    urn: string;
    /** Pulumi type token, e.g. `aws:eks/cluster:Cluster`. */
    type: string;
    /** Logical name. */
    name: string;
    /** URN of the parent resource, when there is one. */
    parent?: string;
    /** Inputs as sent to the engine: what resource policies see. */
    props: Record<string, unknown>;
    /**
     * What the preview returned for it: the inputs and what the provider computes (unknown until
     * deployed). Stack policies see these, as CrossGuard's analyzeStack hands them a resource's
     * outputs; without them (samples, hand-written input) they see `props`.
     */
    outputs?: Record<string, unknown>;
    opts?: ResourceSnapshotOptions;
    /** URNs this resource depends on (explicit `dependsOn` and those its inputs came from). */
    dependencies?: string[];
    /** False for component resources. */
    custom?: boolean;
}

export interface ResourceSnapshotOptions {
    protect?: boolean;
    /** Explicit `dependsOn` URNs. */
    dependsOn?: string[];
    /** Provider URN (explicit, or the default provider the engine would use). */
    provider?: string;
    /** Resource option customTimeouts, as the engine's duration strings ("45m"), where set. */
    customTimeouts?: { create?: string; update?: string; delete?: string };
}

/** What `npm run plan -- --json FILE` writes; the plan adds the `policy`, `capacity`, `monitoring` and `isolation` sections. */
export interface PlanDocument {
    stack: string;
    project: string;
    resources: ResourceSnapshot[];
    outputs: Record<string, unknown>;
    [section: string]: unknown;
}
