import { ResourceLike, nodeGroupBounds, nodeGroupWindow } from "./capacity-evidence";
import { EKS_ADDONS, LABELS } from "../domain/conventions";
import { CLUSTER_AUTOSCALER_CHART, CLUSTER_AUTOSCALER_SETTINGS } from "../upstream/cluster-autoscaler";
import { TYPES } from "../domain/types";

/**
 * How the region's capacity moves, as the resources show it: each node group's bounds (what the
 * autoscaler moves it between), its Kubernetes version and whether node auto-repair is on; the
 * Cluster Autoscaler release and the node monitoring agent. The plan prints it beside the capacity
 * table and writes it under `"autoscaling"` in `--json`.
 */
export interface NodeGroupMotion {
    nodeGroup: string;
    /** The GPU pool, or undefined for the system node group. */
    pool?: string;
    minNodes: number;
    maxNodes: number;
    /** The Kubernetes version the program gives it (undefined: it stays where it was created). */
    version?: string;
    repair: boolean;
    /** The resource that sets the bounds once the group exists (NodeGroupScaling), if any. */
    scaledBy?: string;
    window?: { startsAt: string; endsAt: string };
}

export interface AutoscalingEvidence {
    nodeGroups: NodeGroupMotion[];
    autoscaler?: { release: string; chartVersion?: string; imageTag?: string; clusterName?: string; gpuScaleDownThreshold: number };
    /** Whether the EKS node monitoring agent (which auto-repair acts on) is installed. */
    nodeMonitoringAgent: boolean;
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined);

export function autoscalingFromResources(resources: readonly ResourceLike[]): AutoscalingEvidence {
    const boundsOf = nodeGroupBounds(resources);
    const nodeGroups = resources
        .filter((r) => r.type === TYPES.eksNodeGroup)
        .map((g): NodeGroupMotion => {
            const { minSize, maxSize, scaledBy } = boundsOf(g);
            const window = nodeGroupWindow(g);
            return {
                nodeGroup: g.name,
                ...(str(g.props.labels?.[LABELS.pool]) ? { pool: g.props.labels[LABELS.pool] } : {}),
                minNodes: minSize,
                maxNodes: maxSize,
                ...(str(g.props.version) ? { version: g.props.version } : {}),
                repair: g.props.nodeRepairConfig?.enabled === true,
                ...(scaledBy ? { scaledBy } : {}),
                ...(window ? { window } : {}),
            };
        });
    const release = resources.find((r) => r.type === TYPES.helmRelease && r.props.chart === CLUSTER_AUTOSCALER_CHART);
    const values = release?.props.values ?? {};
    const threshold = values.extraArgs?.[CLUSTER_AUTOSCALER_SETTINGS.gpuThresholdFlag];
    return {
        nodeGroups,
        ...(release
            ? {
                  autoscaler: {
                      release: release.name,
                      ...(str(release.props.version) ? { chartVersion: release.props.version } : {}),
                      ...(str(values.image?.tag) ? { imageTag: values.image.tag } : {}),
                      ...(str(values.autoDiscovery?.clusterName) ? { clusterName: values.autoDiscovery.clusterName } : {}),
                      gpuScaleDownThreshold: threshold === undefined ? CLUSTER_AUTOSCALER_SETTINGS.defaultGpuThreshold : Number(threshold),
                  },
              }
            : {}),
        nodeMonitoringAgent: resources.some((r) => r.type === TYPES.eksAddon && r.props.addonName === EKS_ADDONS.nodeMonitoringAgent),
    };
}
