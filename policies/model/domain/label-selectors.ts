import { types } from "node:util";
import type { LabelSelector } from "../upstream/types";

/** Kubernetes' label selector semantics: whether a selector selects an object with these labels. */

export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
    // Asked of every policy and pod pair: no entry arrays. A proxy (CrossGuard's, over labels holding a
    // value unknown during the preview) is read whole first, as Object.entries reads it.
    const matchLabels = selector.matchLabels as Record<string, string> | undefined;
    if (matchLabels) {
        const keys = Object.keys(matchLabels);
        if (types.isProxy(matchLabels)) for (const k of keys) void matchLabels[k];
        for (const k of keys) if (labels[k] !== matchLabels[k]) return false;
    }
    for (const e of selector.matchExpressions ?? []) {
        const has = Object.prototype.hasOwnProperty.call(labels, e.key);
        switch (e.operator) {
            case "In":
                if (!has || !(e.values ?? []).includes(labels[e.key])) return false;
                break;
            case "NotIn":
                if (has && (e.values ?? []).includes(labels[e.key])) return false;
                break;
            case "Exists":
                if (!has) return false;
                break;
            case "DoesNotExist":
                if (has) return false;
                break;
            default:
                return false; // an operator Kubernetes would reject selects nothing
        }
    }
    return true;
}
