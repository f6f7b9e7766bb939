import { forType, resourcePolicy } from "../engine/policy";
import { TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";

/** An exact chart version: semver with optional leading v, no ranges or wildcards. */
const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export const helmReleasesPinned = resourcePolicy({
    name: "helm-releases-pinned",
    description: "Every Helm release pins an exact chart version.",
    rationale: "An unpinned chart installs whatever the repository serves on the day of the deploy: untested changes to cluster-wide controllers and a change that no review saw.",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: "Set version to an exact chart version (components/helm.ts holds the region's pins).",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-2", title: "Baseline Configuration" },
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Changes are authorized, tested and approved" },
    ],
    validateResource: forType(TYPES.helmRelease, (release, args, report) => {
        const version = release.version;
        if (typeof version !== "string" || !EXACT_VERSION.test(version)) report(`Helm release ${args.name} (${release.chart ?? "?"}) has version ${JSON.stringify(version ?? null)}, not an exact chart version.`);
    }),
    samples: {
        allowed: [{ description: "A pinned chart.", resources: [sample(TYPES.helmRelease, "kueue", { chart: "oci://registry.k8s.io/kueue/charts/kueue", version: "0.14.2" })] }],
        disallowed: [
            { description: "No version: whatever is latest.", expect: 'has version null, not an exact chart version', resources: [sample(TYPES.helmRelease, "kueue", { chart: "kueue" })] },
            { description: "A version range.", expect: 'has version "^0.14.0"', resources: [sample(TYPES.helmRelease, "kueue", { chart: "kueue", version: "^0.14.0" })] },
        ],
    },
});
