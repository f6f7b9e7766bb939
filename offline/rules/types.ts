/**
 * What forces a resource's replacement, per resource type, as data read from the providers'
 * sources. The diff (offline/diff.ts) applies it; every entry names where it was read.
 */

/** Where a rule was read: a repository at a tag or commit, and the file (or symbol) in it. */
export interface RuleSource {
    repo: string;
    /** The tag or commit read. */
    ref: string;
    file: string;
    /** When the file was read through a copy (an index of the upstream source, say). */
    readVia?: { repo: string; ref: string; commit: string; file: string };
}

/**
 * Paths use Pulumi property names: `a.b` is a nested property, `a[*]` any element of a list. A
 * change at or beneath a path matches it (a new value inside `launchTemplate` matches `launchTemplate`).
 */
export type PropertyPath = string;

/**
 * A replacement that depends on the values, not only on which property changed: the providers'
 * CustomizeDiff functions and plan modifiers, each kind implemented once in offline/diff.ts.
 */
export type ConditionalReplacement =
    /** Replaces only when the value is removed (adding or changing it is in place). */
    | { kind: "whenRemoved"; path: PropertyPath; why: string }
    /** Replaces on a change from `from` to `to` only. */
    | { kind: "whenTransition"; path: PropertyPath; from: string; to: string; why: string }
    /** Replaces on any change but the one from `from` to `to`. */
    | { kind: "exceptTransition"; path: PropertyPath; from: string; to: string; why: string }
    /** Replaces on a change, unless the new inputs set `unlessSet` (the value is then derived). */
    | { kind: "unlessSet"; path: PropertyPath; unlessSet: PropertyPath; why: string }
    /** Replaces on a change when another property of the old state has a value. */
    | { kind: "whenOld"; path: PropertyPath; other: PropertyPath; equals: unknown; why: string }
    /** Replaces on a change when another property of the new inputs has (or, with `not`, lacks) a value. */
    | { kind: "whenNew"; path: PropertyPath; other: PropertyPath; equals: unknown; not?: true; why: string }
    /** Replaces when a set value changes to another set value (setting one where none was is in place). */
    | { kind: "whenChangedFromSet"; path: PropertyPath; why: string }
    /** Replaces when the old state has a value and the new one differs or is unknown. */
    | { kind: "whenPriorValueChanges"; path: PropertyPath; why: string }
    /** A map that replaces when it changes, ignoring keys whose new value is null. */
    | { kind: "mapIgnoringNulls"; path: PropertyPath; why: string }
    /** Replaces on a change, unless the new value is unknown or goes from "" to unset. */
    | { kind: "unlessEmptyToUnset"; path: PropertyPath; why: string }
    /** Replaces on a change unless the resource's provider sets `option` (and the object is not `immutable`). */
    | { kind: "unlessProviderOption"; paths: PropertyPath[]; option: string; why: string }
    /** Replaces when the value changes, except between unset and the provider's own value of `providerInput`. */
    | { kind: "unlessProviderDefault"; path: PropertyPath; providerInput: string; why: string }
    /** Replaces when the value is unknown during the preview. */
    | { kind: "whenUnknown"; paths: PropertyPath[]; why: string };

/** A change the provider hides from its diff. */
export type SuppressedChange =
    /** A decrease of `path` while `limit` (autoscaling's ceiling) is above the new value: storage autoscaling grew it. */
    | { kind: "decreaseBelowAutoscalingLimit"; path: PropertyPath; limit: PropertyPath; why: string }
    /** Any change at or beneath `path` (a credential that is new on every run). */
    | { kind: "ignored"; path: PropertyPath; why: string };

export interface ReplacementRule {
    /** The Pulumi type token. */
    type: string;
    /** Properties a change at or beneath which replaces the resource. */
    forceNew: PropertyPath[];
    conditional?: ConditionalReplacement[];
    suppressed?: SuppressedChange[];
    /** Outputs an in-place update recomputes: unknown during the preview of that update. */
    recomputedOnUpdate?: PropertyPath[];
    /** Inputs the provider's Check takes from the old state when the program leaves them unset. */
    keptWhenUnset?: PropertyPath[];
    /**
     * Delete-before-replace the provider asks for: `fixed-name` when the object keeps a fixed name
     * (Kubernetes: metadata.name set and unchanged), `never` when the provider never asks.
     */
    deleteBeforeReplace?: "fixed-name" | "never";
    source: RuleSource[];
    /** How closely the source matches the pinned provider version, when it does not exactly. */
    caveat?: string;
    /** Properties of the pinned SDK the source does not have: their behaviour is unknown. */
    unverified?: string[];
    note?: string;
}
