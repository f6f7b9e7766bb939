import * as pulumi from "@pulumi/pulumi";
import { addonVersionPin } from "compute-region-policies/model";

/**
 * The version an EKS add-on is installed at on a cluster's Kubernetes version: the one published for
 * that minor (ADDON_VERSION_PINS, policies/model/upstream/addon-versions.ts). Every add-on carries it,
 * so a cluster upgrade moves them all in the same deploy and no build floats between previews. An
 * add-on with no row for the minor is a ResourceError naming where the row goes.
 */
export function pinnedAddonVersion(addonName: string, kubernetesVersion: string, owner: pulumi.Resource): string {
    const version = addonVersionPin(addonName, kubernetesVersion);
    if (!version) {
        throw new pulumi.ResourceError(
            `add-on ${addonName}: no version is pinned for Kubernetes ${kubernetesVersion}: add its row to ADDON_VERSION_PINS (policies/model/upstream/addon-versions.ts) from the published table`,
            owner,
        );
    }
    return version;
}
