import { GATEWAY, LABELS } from "../domain/conventions";
import { GATEWAY_TYPES } from "../domain/types";
import { isUnknownValueError } from "./deploy-input";

/**
 * What the hosted-model gateway's objects say, read from the planned resources: the model routes,
 * the policies attached to them and to their Gateway, and the tenants' key Secrets. The components
 * write these objects; the gateway policies judge them from here, whatever wrote them.
 */

interface Resource {
    type: string;
    props: Record<string, any>;
}

export interface ModelRoute {
    name: string;
    namespace: string;
    /** Models the route serves (its rules' exact matches on the model header). */
    models: string[];
    /** Gateways it attaches to, as namespace/name. */
    gateways: string[];
}

export interface KeySecret {
    name: string;
    namespace: string;
    /** The tenant the Secret is labelled for. */
    tenant?: string;
    /**
     * The client ids it holds (its data keys): the identity the gateway forwards. Undefined while the
     * data is unknown (a preview: Secret data is secret and computed), known at update.
     */
    clientIds?: string[];
    /** The models the tenant is granted, from the Secret's annotation. */
    grantedModels: string[];
}

export interface TargetRef {
    group?: string;
    kind?: string;
    name?: string;
}

const ns = (r: Resource): string => r.props.metadata?.namespace ?? "default";
const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

export function modelRoutes(resources: readonly Resource[]): ModelRoute[] {
    return resources
        .filter((r) => r.type === GATEWAY_TYPES.aiRoute)
        .map((r) => {
            const models = list<any>(r.props.spec?.rules).flatMap((rule) =>
                list<any>(rule?.matches).flatMap((m) => list<any>(m?.headers).filter((h) => h?.name === GATEWAY.modelHeader && (h.type ?? "Exact") === "Exact" && typeof h.value === "string").map((h) => h.value as string)),
            );
            const gateways = list<any>(r.props.spec?.parentRefs).filter((p) => (p?.kind ?? "Gateway") === "Gateway" && p?.name).map((p) => `${p.namespace ?? ns(r)}/${p.name}`);
            return { name: r.props.metadata?.name ?? "?", namespace: ns(r), models: [...new Set(models)].sort(), gateways };
        });
}

/** Policies of a type in a namespace whose targetRefs name `kind`/`name`. */
export function policiesTargeting(resources: readonly Resource[], type: string, namespace: string, kind: string, name: string): Resource[] {
    return resources.filter(
        (r) => r.type === type && ns(r) === namespace && [...list<TargetRef>(r.props.spec?.targetRefs), ...(r.props.spec?.targetRef ? [r.props.spec.targetRef] : [])].some((t) => t?.kind === kind && t?.name === name),
    );
}

export function keySecrets(resources: readonly Resource[]): KeySecret[] {
    return resources
        .filter((r) => r.type === GATEWAY_TYPES.secret)
        .map((r) => {
            const granted = r.props.metadata?.annotations?.[GATEWAY.grantedModelsAnnotation];
            return {
                name: r.props.metadata?.name ?? "?",
                namespace: ns(r),
                tenant: r.props.metadata?.labels?.[LABELS.tenant],
                clientIds: knownOrUndefined(() => Object.keys({ ...(r.props.data ?? {}), ...(r.props.stringData ?? {}) }).sort()),
                grantedModels: typeof granted === "string" ? granted.split(",").map((m) => m.trim()).filter(Boolean) : [],
            };
        });
}

/** A value read through CrossGuard's unknown-checking proxy, or undefined if it is unknown during the preview. */
function knownOrUndefined<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (e) {
        if (isUnknownValueError(e)) return undefined;
        throw e;
    }
}

/** The Secrets an API-key policy's credentialRefs name (same namespace unless one is given). */
export function credentialSecrets(policy: Resource, secrets: readonly KeySecret[]): { ref: string; secret?: KeySecret }[] {
    return list<any>(policy.props.spec?.apiKeyAuth?.credentialRefs).map((ref) => {
        const namespace = ref?.namespace ?? ns(policy);
        return { ref: `${namespace}/${ref?.name}`, secret: secrets.find((s) => s.namespace === namespace && s.name === ref?.name) };
    });
}

/** Why a rule is not a tenant's own budget. */
export type UncoveredReason =
    /** No client selector: every tenant shares one bucket. */
    | { reason: "shared" }
    /** It also selects on something other than the tenant header (another header, a method, a path, a source): it counts part of the traffic. */
    | { reason: "conditions"; conditions: string[] }
    /** Its tenant-header matches only exclude tenants: the rest share one bucket. */
    | { reason: "no-own-bucket" }
    /** Its matches leave this tenant out. */
    | { reason: "excluded" };

export interface TenantLimitRule {
    /** Whether every request of this tenant is counted by the rule, in a bucket of the tenant's own. */
    covers(tenant: string): boolean;
    /** Why it does not (undefined when it does). */
    uncovered(tenant: string): UncoveredReason | undefined;
    /** Charged the response's token usage (a token budget), not one per request. */
    costed: boolean;
    requests: number;
}

/**
 * A rate-limit policy's rules as per-tenant budgets. A rule counts a tenant's requests in the tenant's
 * own bucket when its only conditions are on the tenant header: an exact match of the tenant, a
 * distinct match (a bucket per tenant), or inverted exact matches of other tenants. Conditions on
 * anything else (other headers, methods, paths, sources) make it a partial limit, and a rule with no
 * conditions is one bucket for everyone: neither is a tenant's budget.
 */
export function tenantLimitRules(policy: Resource): TenantLimitRule[] {
    const rateLimit = policy.props.spec?.rateLimit ?? {};
    const rules = [...list<any>(rateLimit.global?.rules), ...list<any>(rateLimit.local?.rules)];
    return rules.map((rule) => {
        const selectors = list<any>(rule?.clientSelectors);
        // Everything a selector conditions on besides the tenant header.
        const conditions = [
            ...new Set(
                selectors.flatMap((sel) => [
                    ...(sel?.methods ? ["methods"] : []),
                    ...(sel?.path ? ["path"] : []),
                    ...(sel?.sourceCIDR ? ["sourceCIDR"] : []),
                    ...list<any>(sel?.headers)
                        .filter((h) => !(typeof h?.name === "string" && h.name.toLowerCase() === GATEWAY.tenantHeader))
                        .map((h) => `header ${typeof h?.name === "string" ? h.name : "(unnamed)"}`),
                ]),
            ),
        ];
        const matches = selectors.flatMap((sel) => list<any>(sel?.headers));
        const perTenant = matches.some((h) => (h.type ?? "Exact") === "Distinct" || ((h.type ?? "Exact") === "Exact" && !h.invert));
        const uncovered = (tenant: string): UncoveredReason | undefined => {
            if (selectors.length === 0) return { reason: "shared" };
            if (conditions.length > 0) return { reason: "conditions", conditions };
            if (!perTenant) return { reason: "no-own-bucket" };
            const counted = matches.every((h) => {
                const type = h.type ?? "Exact";
                if (type === "Distinct") return true;
                if (type === "Exact") return (h.value === tenant) !== (h.invert === true);
                return false;
            });
            return counted ? undefined : { reason: "excluded" };
        };
        return { covers: (tenant: string) => uncovered(tenant) === undefined, uncovered, costed: rule?.cost?.response?.from === "Metadata", requests: typeof rule?.limit?.requests === "number" ? rule.limit.requests : 0 };
    });
}
