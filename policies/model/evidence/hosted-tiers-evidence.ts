import { known } from "./capacity-evidence";
import { isUnknown, isUnknownValueError } from "./deploy-input";
import { KUEUE_QUEUE_LABEL, LABELS, TENANT_STATE_ANNOTATION } from "../domain/conventions";
import { GATEWAY_TYPES, K8S_TYPES } from "../domain/types";
import { DEDICATED_ENDPOINT, ENDPOINT_LABEL, PRIVATE_LINK_PRINCIPALS_ANNOTATION } from "../domain/hosted-tiers";
import { selectorMatches } from "../domain/label-selectors";

/**
 * What the planned resources say of the hosted-model tiers: which model servers a route reaches,
 * which Deployments are dedicated endpoints, the tenants' lifecycle states as their key Secrets
 * record them, and the pod templates of every workload kind. The policies judge from here.
 */

interface Resource {
    type: string;
    name: string;
    urn?: string;
    props: Record<string, any>;
}

const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

/** Whether a read meets a value unknown during the preview (where `known` also answers undefined for a value absent). */
function unknownAt(read: () => unknown): boolean {
    try {
        return isUnknown(read());
    } catch (e) {
        if (isUnknownValueError(e)) return true;
        throw e;
    }
}
const ns = (r: Resource): string => known(() => r.props.metadata?.namespace) as string | undefined ?? "default";
const nameOf = (r: Resource): string => (known(() => r.props.metadata?.name) as string | undefined) ?? r.name;

/** A model server Deployment: its name, namespace, pod labels and whether (and whose) it is a dedicated endpoint. */
export interface ModelServer {
    name: string;
    namespace: string;
    podLabels: Record<string, string>;
    /** The tenant of a dedicated endpoint (label LABELS.tenant with ENDPOINT_LABEL=dedicated). */
    dedicatedTo?: string;
}

export function modelServers(resources: readonly Resource[]): ModelServer[] {
    return resources
        .filter((r) => r.type === K8S_TYPES.deployment)
        .map((d) => {
            const labels = (known(() => d.props.spec?.template?.metadata?.labels) as Record<string, string> | undefined) ?? {};
            const meta = (known(() => d.props.metadata?.labels) as Record<string, string> | undefined) ?? {};
            const dedicated = labels[ENDPOINT_LABEL] === DEDICATED_ENDPOINT || meta[ENDPOINT_LABEL] === DEDICATED_ENDPOINT;
            const tenant = labels[LABELS.tenant] ?? meta[LABELS.tenant];
            return { name: nameOf(d), namespace: ns(d), podLabels: labels, ...(dedicated ? { dedicatedTo: tenant ?? "" } : {}) };
        });
}

/**
 * The model servers an AI Gateway route sends traffic to: its rules' backends (AIServiceBackends in
 * its namespace), their Envoy Gateway Backends, whose FQDN endpoints name Services
 * (`<service>.<namespace>.svc...`), and the Deployments those Services select. Unresolved links are
 * listed as such, so a policy can say what it could not follow.
 */
export function routeTargets(resources: readonly Resource[], route: Resource): { servers: ModelServer[]; unresolved: string[]; undecided: string[] } {
    const servers: ModelServer[] = [];
    const unresolved: string[] = [];
    // A link not found while some object of its kind has a name or namespace unknown during the
    // preview may be that object: undecided, not unresolved.
    const undecided: string[] = [];
    const missing = (type: string, link: string, path: string) => {
        const blind = resources.find((r) => r.type === type && (known(() => r.props.metadata?.name) === undefined || known(() => r.props.metadata) === undefined || (r.props.metadata?.namespace !== undefined && known(() => r.props.metadata?.namespace) === undefined)));
        if (blind) undecided.push(`${blind.name}.${path}`);
        else unresolved.push(link);
    };
    const routeNs = ns(route);
    const deployments = modelServers(resources);
    if (unknownAt(() => route.props.spec?.rules)) undecided.push(`${route.name}.spec.rules`);
    for (const rule of list<any>(known(() => route.props.spec?.rules))) {
        for (const ref of list<any>(rule?.backendRefs)) {
            const aiBackend = resources.find((r) => r.type === GATEWAY_TYPES.aiServiceBackend && ns(r) === routeNs && nameOf(r) === ref?.name);
            if (!aiBackend) {
                missing(GATEWAY_TYPES.aiServiceBackend, `AIServiceBackend ${routeNs}/${ref?.name}`, "metadata");
                continue;
            }
            const backendName = known(() => aiBackend.props.spec?.backendRef?.name);
            const backend = resources.find((r) => r.type === GATEWAY_TYPES.backend && ns(r) === routeNs && nameOf(r) === backendName);
            if (!backend) {
                if (backendName === undefined) undecided.push(`${aiBackend.name}.spec.backendRef.name`);
                else missing(GATEWAY_TYPES.backend, `Backend ${routeNs}/${backendName}`, "metadata");
                continue;
            }
            if (unknownAt(() => backend.props.spec?.endpoints)) undecided.push(`${backend.name}.spec.endpoints`);
            for (const endpoint of list<any>(known(() => backend.props.spec?.endpoints))) {
                const host = endpoint?.fqdn?.hostname;
                const m = typeof host === "string" ? /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.|$)/.exec(host) : null;
                if (!m) {
                    unresolved.push(`endpoint ${JSON.stringify(host ?? endpoint)} of Backend ${routeNs}/${backendName}`);
                    continue;
                }
                const service = resources.find((r) => r.type === K8S_TYPES.service && ns(r) === m[2] && nameOf(r) === m[1]);
                if (!service) {
                    missing(K8S_TYPES.service, `Service ${m[2]}/${m[1]}`, "metadata");
                    continue;
                }
                const selector = known(() => service.props.spec?.selector) as Record<string, string> | undefined;
                if (!selector) {
                    if (unknownAt(() => service.props.spec?.selector)) undecided.push(`${service.name}.spec.selector`);
                    else unresolved.push(`Service ${m[2]}/${m[1]}`);
                    continue;
                }
                servers.push(...deployments.filter((d) => d.namespace === m[2] && selectorMatches({ matchLabels: selector }, d.podLabels)));
            }
        }
    }
    return { servers, unresolved, undecided };
}

/** A tenant's lifecycle state and PrivateLink principals, as its gateway key Secret records them. */
export interface HostedTenantRecord {
    tenant: string;
    state: string;
    principals: string[];
}

export function hostedTenantRecords(resources: readonly Resource[]): Map<string, HostedTenantRecord> {
    const out = new Map<string, HostedTenantRecord>();
    for (const r of resources.filter((x) => x.type === K8S_TYPES.secret)) {
        const tenant = known(() => r.props.metadata?.labels?.[LABELS.tenant]);
        const annotations = (known(() => r.props.metadata?.annotations) as Record<string, string> | undefined) ?? {};
        if (typeof tenant !== "string" || annotations[TENANT_STATE_ANNOTATION] === undefined) continue;
        const principals = annotations[PRIVATE_LINK_PRINCIPALS_ANNOTATION];
        out.set(tenant, { tenant, state: annotations[TENANT_STATE_ANNOTATION], principals: typeof principals === "string" ? principals.split(",").map((p) => p.trim()).filter(Boolean) : [] });
    }
    return out;
}

/** A workload's pod template spec and labels, for every kind that runs pods (a KEDA ScaledJob's Job template included). */
export function podTemplates(resources: readonly Resource[]): { resource: Resource; namespace: string; labels: Record<string, string>; spec: Record<string, any> }[] {
    const templateOf = (r: Resource): Record<string, any> | undefined => {
        switch (r.type) {
            case K8S_TYPES.cronJob:
                return known(() => r.props.spec?.jobTemplate?.spec?.template) as Record<string, any> | undefined;
            case SCALED_JOB:
                return known(() => r.props.spec?.jobTargetRef?.template) as Record<string, any> | undefined;
            case K8S_TYPES.pod:
                return { metadata: r.props.metadata, spec: r.props.spec };
            case K8S_TYPES.deployment:
            case K8S_TYPES.statefulSet:
            case K8S_TYPES.daemonSet:
            case K8S_TYPES.replicaSet:
            case K8S_TYPES.job:
                return known(() => r.props.spec?.template) as Record<string, any> | undefined;
            default:
                return undefined;
        }
    };
    return resources.flatMap((r) => {
        const template = templateOf(r);
        if (!template) return [];
        const labels = { ...((known(() => r.props.metadata?.labels) as Record<string, string> | undefined) ?? {}), ...((known(() => template.metadata?.labels) as Record<string, string> | undefined) ?? {}) };
        return [{ resource: r, namespace: ns(r), labels, spec: (known(() => template.spec) as Record<string, any> | undefined) ?? {} }];
    });
}

/** KEDA's ScaledJob: a Job template the operator instantiates per event. */
export const SCALED_JOB = "kubernetes:keda.sh/v1alpha1:ScaledJob";

/** The Kueue queue a workload names. */
export function queueNameOf(labels: Record<string, string>): string | undefined {
    return labels[KUEUE_QUEUE_LABEL];
}
