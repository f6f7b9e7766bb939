import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { parse as parseYaml } from "yaml";
import type { ResourceSnapshot } from "compute-region-policies/engine";
import { UNKNOWN, unwrapSecrets } from "compute-region-policies/engine";

/** Drops values unknown during the preview: they cannot be judged until deploy, as in a real preview. */
function withoutUnknowns(value: unknown): unknown {
    if (Array.isArray(value)) return value.filter((v) => v !== UNKNOWN).map(withoutUnknowns);
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== UNKNOWN).map(([k, v]) => [k, withoutUnknowns(v)]));
    }
    return value;
}

/**
 * The schema's complaints that only say a required property is missing where the plan holds it
 * unknown (a file system's id in a volume's handle): it is set at deploy, so it is not an error.
 */
function unexplained(message: string, props: unknown): string[] {
    return message.split(/, (?=data\/)/).filter((part) => {
        const m = /^data((?:\/[^ ]*)?) must have required property '?([^' ]+)'?$/.exec(part.trim());
        if (!m) return true;
        const at = m[1].split("/").filter(Boolean).reduce<any>((v, k) => v?.[k], props);
        return at?.[m[2]] !== UNKNOWN;
    });
}

/**
 * Validates Kubernetes objects the program registers against the published Kubernetes schemas
 * (`kubernetes-models`), and CRD objects against the CRD schema packages listed here.
 */

/** API groups of the core Kubernetes API, served by `kubernetes-models` itself. */
const BUILTIN_GROUPS = new Set([
    "core", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io", "storage.k8s.io",
    "scheduling.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
    "node.k8s.io", "certificates.k8s.io", "flowcontrol.apiserver.k8s.io",
]);

/** CRD groups with a published schema package: group to module prefix. */
export const CRD_SCHEMA_MODULES: Record<string, string> = {
    "monitoring.coreos.com": "@kubernetes-models/prometheus-operator/monitoring.coreos.com",
    "keda.sh": "@kubernetes-models/keda/keda.sh",
    // The 0.x line (Node 20); its v1 covers Gateway, GatewayClass and HTTPRoute.
    "gateway.networking.k8s.io": "@kubernetes-models/gateway-api/gateway.networking.k8s.io",
    // Only a 2.x exists; its engines field asks for Node 22, but it is plain ESM and validates under
    // Node 20 (the test "would catch an Envoy Gateway object that breaks its schema" proves it).
    // Generated from Envoy Gateway's Go types: types, enums and required fields are checked, unknown
    // fields are not.
    "gateway.envoyproxy.io": "@kubernetes-models/envoy-gateway/gateway.envoyproxy.io",
};

/**
 * CRD groups no schema package publishes (checked on npm): their objects get a structural check
 * here (apiVersion, kind, metadata.name, spec) and their semantics are covered by the policies.
 */
export const CRDS_WITHOUT_PUBLISHED_SCHEMA: Record<string, string> = {
    "kueue.x-k8s.io": "no @kubernetes-models package for Kueue exists",
    "vpcresources.k8s.aws": "no @kubernetes-models package for the VPC resource controller's SecurityGroupPolicy exists",
    "aigateway.envoyproxy.io": "no @kubernetes-models package for Envoy AI Gateway's AIGatewayRoute and AIServiceBackend exists",
};

/**
 * CRDs vendored from the pinned charts (test/crds/README.md): objects of these kinds are validated
 * against the CRD's own OpenAPI v3 schema, for the version the object uses.
 */
export const VENDORED_CRDS = [
    "kueue-v0.14.2/kueue.x-k8s.io_clusterqueues.yaml",
    "kueue-v0.14.2/kueue.x-k8s.io_localqueues.yaml",
    "aws-load-balancer-controller-1.17.1/targetgroupbindings.elbv2.k8s.aws.yaml",
];

/**
 * An OpenAPI v3 schema of a CRD as JSON Schema for Ajv: `x-kubernetes-int-or-string` as an integer or
 * a string, and objects that list their properties closed to others (the API server prunes unknown
 * fields, so a misspelled one would silently do nothing: here it is an error).
 */
function crdToJsonSchema(node: any): any {
    if (Array.isArray(node)) return node.map(crdToJsonSchema);
    if (typeof node !== "object" || node === null) return node;
    const out: Record<string, any> = {};
    for (const [k, v] of Object.entries(node)) if (!k.startsWith("x-kubernetes-") && k !== "nullable") out[k] = crdToJsonSchema(v);
    if (node["x-kubernetes-int-or-string"]) {
        delete out.type;
        out.anyOf = [{ type: "integer" }, { type: "string" }];
    }
    if (node.nullable && typeof out.type === "string") out.type = [out.type, "null"];
    if (out.type === "object" && out.properties && out.additionalProperties === undefined && !node["x-kubernetes-preserve-unknown-fields"]) out.additionalProperties = false;
    return out;
}

type CrdValidator = (data: unknown, raw: unknown) => string | undefined;
let crdValidators: Map<string, CrdValidator> | undefined;
/** group/version/kind to a validator of the vendored CRD's schema. */
function vendoredCrdValidators(): Map<string, CrdValidator> {
    if (crdValidators) return crdValidators;
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    crdValidators = new Map();
    for (const file of VENDORED_CRDS) {
        const crd = parseYaml(fs.readFileSync(path.join(__dirname, "crds", file), "utf8"));
        for (const version of crd.spec.versions) {
            const validate = ajv.compile(crdToJsonSchema(version.schema.openAPIV3Schema));
            // `raw` is the object with its unknowns: a required property unknown during the preview is set at deploy.
            crdValidators.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, (data, raw) => {
                if (validate(data)) return undefined;
                const at = (pointer: string) => pointer.split("/").filter(Boolean).reduce<any>((v, k) => v?.[k], raw);
                const left = (validate.errors ?? []).filter((e) => !(e.keyword === "required" && at(e.instancePath)?.[(e.params as { missingProperty: string }).missingProperty] === UNKNOWN));
                return left.length === 0 ? undefined : left.map((e) => `${e.instancePath || "(object)"} ${e.message}${e.params && "additionalProperty" in e.params ? ` (${e.params.additionalProperty})` : ""}`).join(", ");
            });
        }
    }
    return crdValidators;
}

/** Pulumi types that are not Kubernetes objects (Helm releases, providers) and so have no object schema. */
export const NOT_KUBERNETES_OBJECTS = new Set(["kubernetes:helm.sh/v3:Release", "pulumi:providers:kubernetes"]);

export interface SchemaCheck {
    validated: string[];
    noSchema: string[];
    errors: string[];
}

function modulePath(group: string, version: string): string | undefined {
    if (BUILTIN_GROUPS.has(group)) return group === "core" ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`;
    const crd = CRD_SCHEMA_MODULES[group];
    return crd ? `${crd}/${version}` : undefined;
}

/** `kubernetes:storage.k8s.io/v1:StorageClass` to its group, version and kind. */
export function parseKubernetesType(type: string): { group: string; version: string; kind: string } | undefined {
    const m = /^kubernetes:([^/]+)\/([^:]+):(.+)$/.exec(type);
    return m ? { group: m[1], version: m[2], kind: m[3] } : undefined;
}

/**
 * An AIGatewayRoute's rules are a subset of an HTTPRoute's, and the AI Gateway generates an HTTPRoute
 * of the same name from them: its parentRefs, matches and timeouts are checked against the Gateway
 * API's HTTPRoute schema (the backends become the AI Gateway's own, so they are left out).
 */
export function derivedHTTPRoute(group: string, kind: string, props: Record<string, any>): Record<string, unknown> | undefined {
    if (group !== "aigateway.envoyproxy.io" || kind !== "AIGatewayRoute") return undefined;
    const rules = (props.spec?.rules ?? []).map((rule: Record<string, unknown>) => {
        const { matches, timeouts } = rule;
        return { ...(matches !== undefined ? { matches } : {}), ...(timeouts !== undefined ? { timeouts } : {}) };
    });
    return { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: props.metadata, spec: { parentRefs: props.spec?.parentRefs, rules } };
}

type ModelModule = Record<string, new (data: unknown) => { validate(): void }>;

/** Loads a model module: CommonJS and ESM-only packages alike, through the ESM loader. */
async function loadModels(path: string): Promise<ModelModule> {
    const module = (await import(path)) as ModelModule & { default?: ModelModule };
    return { ...(module.default ?? {}), ...module };
}

export async function validateKubernetesObjects(resources: readonly ResourceSnapshot[]): Promise<SchemaCheck> {
    const result: SchemaCheck = { validated: [], noSchema: [], errors: [] };
    for (const r of resources) {
        if (!r.type.startsWith("kubernetes:") || NOT_KUBERNETES_OBJECTS.has(r.type)) continue;
        const parsed = parseKubernetesType(r.type);
        const vendored = parsed && vendoredCrdValidators().get(`${parsed.group}/${parsed.version}/${parsed.kind}`);
        if (vendored) {
            const problem = vendored(withoutUnknowns(unwrapSecrets(r.props)), unwrapSecrets(r.props));
            if (problem) result.errors.push(`${r.name} (${r.type}), against its vendored CRD: ${problem}`);
            else result.validated.push(r.name);
            continue;
        }
        const path = parsed && modulePath(parsed.group, parsed.version);
        if (parsed && !path && CRDS_WITHOUT_PUBLISHED_SCHEMA[parsed.group]) {
            const p = r.props as { apiVersion?: string; kind?: string; metadata?: { name?: string }; spec?: unknown };
            if (p.apiVersion !== `${parsed.group}/${parsed.version}` || p.kind !== parsed.kind || !p.metadata?.name || typeof p.spec !== "object") {
                result.errors.push(`${r.name} (${r.type}): must have apiVersion ${parsed.group}/${parsed.version}, kind ${parsed.kind}, metadata.name and spec`);
                continue;
            }
            const derived = derivedHTTPRoute(parsed.group, parsed.kind, withoutUnknowns(unwrapSecrets(r.props)) as Record<string, any>);
            if (derived) {
                try {
                    new (await loadModels("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1")).HTTPRoute(derived).validate();
                } catch (e) {
                    result.errors.push(`${r.name} (${r.type}), as the HTTPRoute it generates: ${(e as Error).message}`);
                    continue;
                }
            }
            result.validated.push(r.name);
            continue;
        }
        if (!parsed || !path) {
            result.noSchema.push(r.type);
            continue;
        }
        const Model = (await loadModels(path))[parsed.kind];
        if (!Model) {
            result.errors.push(`${r.name} (${r.type}): ${path} has no model ${parsed.kind}`);
            continue;
        }
        try {
            // The provider sees secret values unwrapped.
            new Model(withoutUnknowns(unwrapSecrets(r.props))).validate();
            result.validated.push(r.name);
        } catch (e) {
            const left = unexplained((e as Error).message, unwrapSecrets(r.props));
            if (left.length === 0) result.validated.push(r.name);
            else result.errors.push(`${r.name} (${r.type}): ${left.join(", ")}`);
        }
    }
    return result;
}
