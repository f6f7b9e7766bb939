import * as pulumi from "@pulumi/pulumi";
import { Region } from "../components/region";
import { loadRegionConfig } from "./config";

/**
 * The region program: validate the whole stack config first (a bad config registers nothing),
 * then build the region and return the stack outputs a platform engineer needs.
 */
export async function regionProgram(): Promise<Record<string, unknown>> {
    const config = loadRegionConfig();
    const region = new Region(config.stack, { config });
    return {
        region: config.region,
        vpcId: region.network.vpcId,
        subnetCidrs: region.network.subnetCidrs,
        clusterName: region.cluster.clusterName,
        clusterEndpoint: region.cluster.endpoint,
        oidcProviderArn: region.cluster.oidcProviderArn,
        kubeconfig: pulumi.secret(region.cluster.kubeconfig),
        capacity: region.capacity,
        alertRules: region.observability.ruleGroups.flatMap((g) => g.rules.map((r) => `${g.name}/${r.alert}${r.labels.pool ? `{pool=${r.labels.pool}}` : ""}`)),
        dashboards: region.observability.dashboards,
        grafanaAdminPassword: region.observability.grafanaAdminPassword,
    };
}
