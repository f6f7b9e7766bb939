import { containsUnknown, isSecretValue, UNKNOWN } from "compute-region-policies/engine";
import { decodeConfigValue } from "../stacks/config";
import { PROVIDER_TYPES } from "./preview-outputs";

/**
 * What the engine diffs is not what the program registered: it first sends the inputs through the
 * provider's Check (and a provider resource's through CheckConfig), stores the checked inputs in the
 * state, and diffs the next run's checked inputs against them. Without the same step on the new
 * side, every value Check adds shows as a change against a real `pulumi stack export`. What each
 * provider adds, read from its source:
 *
 * - the engine, for every provider resource with a version (the default providers it creates, and
 *   explicit ones the SDK registers with `version`): `version` and an empty `__internal` object
 *   (pulumi/pulumi v3.248.0 pkg/resource/deploy/providers/registry.go SetProviderVersion, called
 *   from default_providers.go newRegisterDefaultProviderEvent and source_eval.go for explicit
 *   providers). The engine strips `__internal` before the provider's CheckConfig and DiffConfig
 *   (FilterProviderConfig) and keeps it out of the outputs (deployment.go).
 * - the bridged AWS provider's CheckConfig: its config defaults `skipRegionValidation: true` and
 *   `skipCredentialsValidation: false` (pulumi/pulumi-aws provider/resources.go, `Config`), returned
 *   in the engine's JSON-string encoding of provider config, as every other key of it.
 * - the bridged AWS provider's Check, before the Terraform schema sees the inputs (PreCheckCallback):
 *   `region`, the provider's, on every resource with a usable `region` argument (pulumi/pulumi-aws
 *   provider/region.go applyRegion; AWS provider v7's per-resource region), and `tagsAll`, the
 *   provider's `defaultTags.tags` merged with the resource's `tags` less `ignoreTags`, on every
 *   Terraform SDKv2 resource with `tags` and `tags_all` (provider/tags.go applyTags; Plugin
 *   Framework resources compute it at plan time instead, so their checked inputs have none). Which
 *   resources have a usable `region` or `tags` is read from the @pulumi/aws 7.48.0 declarations into
 *   offline/provider-types.json (`checkAdds`); which are Plugin Framework resources, from
 *   terraform-provider-aws (FRAMEWORK_RESOURCES below).
 * - Terraform schema defaults and auto-names the bridge fills are listed in the checked inputs'
 *   `__defaults`, and a later Check reuses the old value of a listed key the program leaves unset
 *   (pulumi/pulumi-terraform-bridge pkg/tfbridge/schema.go applyDefaults, useOldDefault): the diff
 *   keeps them (offline/diff.ts).
 */

/**
 * AWS resources the program uses that terraform-provider-aws implements with the Plugin Framework
 * (`@FrameworkResource`): their Check gets the region but no `tagsAll`, and no `__defaults`.
 */
export const FRAMEWORK_RESOURCES: Record<string, string> = {
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": "hashicorp/terraform-provider-aws internal/service/eks/pod_identity_association.go: @FrameworkResource(\"aws_eks_pod_identity_association\")",
};

/** CheckConfig's defaults of the bridged AWS provider (pulumi/pulumi-aws provider/resources.go `Config`), as the engine stores provider config: JSON text. */
export const AWS_PROVIDER_CONFIG_DEFAULTS: Record<string, string> = { skipCredentialsValidation: "false", skipRegionValidation: "true" };

/** The key under which the engine keeps its own provider settings (registry.go `internalKey`). */
export const PROVIDER_INTERNAL_KEY = "__internal";

/** A provider resource's type token's package: `pulumi:providers:aws` to `aws`. */
export function providerPackage(type: string): string | undefined {
    return type.startsWith("pulumi:providers:") ? type.slice("pulumi:providers:".length) : undefined;
}

/** Packages bridged with the Terraform SDKv2 shim, whose Check writes `__defaults`. */
const SDKV2_PACKAGES = new Set(["aws"]);

/** Whether the bridge's Check lists the defaults it filled in `__defaults` (SDKv2 resources of the AWS provider). */
export function writesDefaultsList(type: string): boolean {
    return SDKV2_PACKAGES.has(type.split(":")[0]) && !FRAMEWORK_RESOURCES[type] && !type.startsWith("pulumi:");
}

/**
 * A provider resource's inputs as the engine stores them: the registered config, `version` and
 * `__internal` when the registration carries a version, and the provider's CheckConfig defaults.
 */
export function checkedProviderInputs(type: string, props: Record<string, unknown>, version?: string): Record<string, unknown> {
    const pkg = providerPackage(type);
    const out: Record<string, unknown> = { ...props };
    if (version && out.version === undefined) out.version = version;
    if (out.version !== undefined && out[PROVIDER_INTERNAL_KEY] === undefined) out[PROVIDER_INTERNAL_KEY] = {};
    if (pkg === "aws") for (const [k, v] of Object.entries(AWS_PROVIDER_CONFIG_DEFAULTS)) if (out[k] === undefined) out[k] = v;
    return out;
}

/** A provider input as a value: the engine passes provider config as JSON text (strings stay strings). */
function providerValue(value: unknown): unknown {
    return typeof value === "string" ? decodeConfigValue(value) : value;
}

function plainStrings(value: unknown): Record<string, string> | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    return Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v === "string")) as Record<string, string>;
}

/** pulumi-aws tags.go mergeTags: default tags, then the resource's, less the ignored keys and prefixes; unknown if any part is. */
export function mergedTags(tags: unknown, provider: Record<string, unknown>): unknown {
    const defaultTags = providerValue(provider.defaultTags);
    const ignoreTags = providerValue(provider.ignoreTags);
    if (containsUnknown(tags) || containsUnknown(defaultTags) || containsUnknown(ignoreTags)) return UNKNOWN;
    const defaults = plainStrings((defaultTags as { tags?: unknown } | undefined)?.tags) ?? {};
    const own = isSecretValue(tags) ? plainStrings(tags.value) : plainStrings(tags);
    const ignore = (ignoreTags ?? {}) as { keys?: unknown; keyPrefixes?: unknown };
    const keys = Array.isArray(ignore.keys) ? ignore.keys.map(String) : [];
    const prefixes = Array.isArray(ignore.keyPrefixes) ? ignore.keyPrefixes.map(String) : [];
    const merged: Record<string, string> = { ...defaults, ...(own ?? {}) };
    for (const k of Object.keys(merged)) if (keys.includes(k) || prefixes.some((p) => k.startsWith(p))) delete merged[k];
    return merged;
}

/**
 * A resource's inputs after its provider's Check, for the keys Check adds (`region`, `tagsAll`);
 * `provider` is the checked inputs of the provider it runs on.
 */
export function checkedResourceInputs(type: string, props: Record<string, unknown>, provider: Record<string, unknown> | undefined): Record<string, unknown> {
    const adds = PROVIDER_TYPES.resources[type]?.checkAdds;
    if (!adds || adds.length === 0) return props;
    const out: Record<string, unknown> = { ...props };
    if (adds.includes("region") && (out.region === undefined || out.region === null) && provider?.region !== undefined) out.region = providerValue(provider.region);
    if (adds.includes("tagsAll")) out.tagsAll = mergedTags(out.tags, provider ?? {});
    return out;
}
