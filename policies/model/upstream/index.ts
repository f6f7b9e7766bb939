import { ADDON_FACTS } from "./addons";
import { CHART_FACTS } from "./charts";
import type { AddonFacts, ChartFacts } from "./types";

export * from "./types";
export * from "./charts";
export * from "./addons";
export * from "./eks";
export * from "./iam";
export * from "./cluster-autoscaler";
export * from "./addon-versions";
export * from "./tenant-metrics";
export * from "./rendered-charts";
export * from "./guardduty";
export * from "./service-metrics";

/** The facts of a pinned chart, or undefined when the region has none for that chart and version. */
export function chartFacts(chart: string, version: string): ChartFacts | undefined {
    return CHART_FACTS.find((c) => c.chart === chart && c.version === version);
}

/** The facts of an EKS add-on. */
export function addonFacts(addon: string): AddonFacts | undefined {
    return ADDON_FACTS.find((a) => a.addon === addon);
}
