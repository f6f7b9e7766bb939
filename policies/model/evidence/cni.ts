import { parse as parseYaml } from "yaml";
import { EKS_ADDONS } from "../domain/conventions";
import { isUnknown } from "./deploy-input";
import { TYPES } from "../domain/types";

/**
 * The VPC CNI's NetworkPolicy enforcement: strict (a pod no policy selects is denied everything),
 * standard (such a pod is open), or off (policies are not enforced at all).
 */
export type CniMode = "strict" | "standard" | "off";

/** The mode from the vpc-cni add-on's configuration values. */
export function cniMode(configurationValues: unknown): CniMode {
    if (typeof configurationValues !== "string" || isUnknown(configurationValues)) return "off";
    let settings: any;
    try {
        settings = parseYaml(configurationValues);
    } catch {
        return "off";
    }
    if (String(settings?.enableNetworkPolicy) !== "true") return "off";
    return settings?.env?.NETWORK_POLICY_ENFORCING_MODE === "strict" ? "strict" : "standard";
}

/**
 * The mode a plan's cluster runs: its vpc-cni add-on's, or, for a stack that installs none (a tenant
 * shard on its platform, a sample), the region's own convention, strict.
 */
export function planCniMode(resources: readonly { type: string; props: Record<string, any> }[]): CniMode {
    const addon = resources.find((r) => r.type === TYPES.eksAddon && r.props.addonName === EKS_ADDONS.vpcCni);
    return addon ? cniMode(addon.props.configurationValues) : "strict";
}
