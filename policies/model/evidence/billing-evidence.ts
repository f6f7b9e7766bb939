import { type RegistryDocument, BILLING_REGISTRY, parseRegistry } from "../domain/billing";
import { isUnknown } from "./deploy-input";

/**
 * The billing registry as a plan (or a state, or a sample) holds it: its ConfigMaps, and the document
 * each holds when its text is known and reads as one.
 */

/** A registry ConfigMap of a plan (or a state, or a sample): where it is and what it holds. */
export interface PlannedRegistry {
    urn?: string;
    name: string;
    /** The document, when its text is known and reads as one. */
    doc?: RegistryDocument;
    /** Its text is not known yet (a shard's document reads the platform's outputs). */
    unknown?: boolean;
    /** Why it does not read as a registry document. */
    problem?: string;
}

/** The registry ConfigMap of a resource's props, or undefined when it is not one. */
export function registryOf(resource: { type: string; name: string; urn?: string; props: Record<string, any> }): PlannedRegistry | undefined {
    if (resource.type !== "kubernetes:core/v1:ConfigMap") return undefined;
    const meta = resource.props?.metadata;
    // billing-registry, or a shard's billing-registry-shard-<name>, labelled with its scope.
    if (meta?.namespace !== "billing" || !(meta?.name === BILLING_REGISTRY.configMap || meta?.labels?.[BILLING_REGISTRY.label] !== undefined)) return undefined;
    const text = resource.props?.data?.[BILLING_REGISTRY.key];
    const at = { ...(resource.urn ? { urn: resource.urn } : {}), name: resource.name };
    if (typeof text !== "string" || isUnknown(text)) return { ...at, unknown: true };
    try {
        return { ...at, doc: parseRegistry(text, `ConfigMap ${BILLING_REGISTRY.configMap}`) };
    } catch (e) {
        return { ...at, problem: (e as Error).message };
    }
}

/** The stack's registry ConfigMaps. */
export function registriesOf(resources: readonly { type: string; name: string; urn?: string; props: Record<string, any> }[]): PlannedRegistry[] {
    return resources.map(registryOf).filter((r): r is PlannedRegistry => r !== undefined);
}
