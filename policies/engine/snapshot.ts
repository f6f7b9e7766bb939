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
    /**
     * For each input unknown during the preview, the URNs its value comes from: whether it changes
     * depends on whether they do. Absent when no input is unknown.
     */
    propertyDependencies?: Record<string, string[]>;
    /** False for component resources. */
    custom?: boolean;
}

export interface ResourceSnapshotOptions {
    protect?: boolean;
    /** Explicit `dependsOn` URNs. */
    dependsOn?: string[];
    /** Provider URN (explicit, or the default provider the engine would use). */
    provider?: string;
    /** Former identities, as the SDK sends them (the engine resolves them against the state). Absent when none. */
    aliases?: AliasSpec[];
    /** Input paths whose changes are ignored (the old value is kept). Absent when none. */
    ignoreChanges?: string[];
    /** Input paths whose changes force a replacement, `*` for any. Absent when none. */
    replaceOnChanges?: string[];
    /** Delete the old resource before creating its replacement. Absent unless set. */
    deleteBeforeReplace?: boolean;
    /** Leave the cloud resource in place when Pulumi deletes it. Absent unless set. */
    retainOnDelete?: boolean;
    /** Operation timeouts as given (Go durations such as `30m`). Absent when none. */
    customTimeouts?: { create?: string; update?: string; delete?: string };
    /** A provider resource's plugin version, as its SDK registers it: the engine keeps it among the provider's inputs. */
    version?: string;
}

/**
 * One alias of a resource: a URN, or the parts of a former URN that differ (name, type, parent,
 * stack, project; what is not given is the resource's own).
 */
export type AliasSpec = { urn: string } | { name?: string; type?: string; stack?: string; project?: string; parentUrn?: string; noParent?: true };

/** What `npm run plan -- --json FILE` writes; the plan adds the `policy`, `capacity`, `monitoring` and `isolation` sections. */
export interface PlanDocument {
    stack: string;
    project: string;
    resources: ResourceSnapshot[];
    outputs: Record<string, unknown>;
    [section: string]: unknown;
}
