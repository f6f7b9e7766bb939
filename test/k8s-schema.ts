import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { isCelError, run } from "@bufbuild/cel";
import Ajv, { ValidateFunction } from "ajv";
import { parse as parseYaml } from "yaml";
import type { ResourceSnapshot } from "compute-region-policies/engine";
import { UNKNOWN, unwrapSecrets } from "compute-region-policies/engine";
import { chartSource } from "../scripts/chart-sources";
import { CACHE_DIR, cachedRender, plannedReleases } from "../scripts/render-charts";
import { REPO_ROOT } from "../scripts/helm";

/**
 * Validates the Kubernetes objects the program registers: core kinds against the published
 * Kubernetes schemas (`kubernetes-models`), custom resources against their CRDs' own schemas at the
 * pinned versions — the CRDs a real Helm render of the vendored charts installs (vendor/charts), and
 * those EKS serves itself (vendor/crds) — with a JSON-schema validator (ajv) and Kubernetes' rules
 * for structural schemas: unknown fields refused (the API server would prune them: a misspelled field
 * is a setting lost), int-or-string, nullable, list uniqueness (x-kubernetes-list-type), and the CRDs'
 * CEL validation rules (x-kubernetes-validations) evaluated by a CEL library on a create.
 */

/** Drops values unknown during the preview: they cannot be judged until deploy, as in a real preview. */
function withoutUnknowns(value: unknown): unknown {
    if (Array.isArray(value)) return value.filter((v) => v !== UNKNOWN).map(withoutUnknowns);
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== UNKNOWN).map(([k, v]) => [k, withoutUnknowns(v)]));
    }
    return value;
}

/** A property the validator reports missing that the plan holds as unknown (set at deploy) is not an error. */
function missingButUnknown(instancePath: string, property: string, props: unknown): boolean {
    const at = instancePath.split("/").filter(Boolean).reduce<any>((v, k) => v?.[k], props);
    return at?.[property] === UNKNOWN;
}

function containsUnknown(value: unknown): boolean {
    if (value === UNKNOWN) return true;
    if (Array.isArray(value)) return value.some(containsUnknown);
    if (typeof value === "object" && value !== null) return Object.values(value).some(containsUnknown);
    return false;
}

/** Whether what an error is about holds a value unknown during the preview (a list of security group ids): it cannot be judged yet. */
function judgedOnUnknown(instancePath: string, props: unknown): boolean {
    const at = instancePath.split("/").filter(Boolean).reduce<any>((v, k) => v?.[k], props);
    return containsUnknown(at);
}

/** Core Kubernetes API groups, served by `kubernetes-models` itself. */
const BUILTIN_GROUPS = new Set([
    "core", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io", "storage.k8s.io",
    "scheduling.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
    "node.k8s.io", "certificates.k8s.io", "flowcontrol.apiserver.k8s.io",
]);

/** Pulumi types that are not Kubernetes objects (Helm releases, providers) and so have no object schema. */
export const NOT_KUBERNETES_OBJECTS = new Set(["kubernetes:helm.sh/v3:Release", "pulumi:providers:kubernetes"]);

export interface SchemaCheck {
    validated: string[];
    noSchema: string[];
    errors: string[];
    /** CEL rules the library could not evaluate (a Kubernetes extension function), by CRD and rule: not judged. */
    uncheckedRules: string[];
}

/** `kubernetes:storage.k8s.io/v1:StorageClass` to its group, version and kind. */
export function parseKubernetesType(type: string): { group: string; version: string; kind: string } | undefined {
    const m = /^kubernetes:([^/]+)\/([^:]+):(.+)$/.exec(type);
    return m ? { group: m[1], version: m[2], kind: m[3] } : undefined;
}

// ---------------------------------------------------------------------------------------------
// CRD schemas at the pinned versions

export interface CrdSchema {
    group: string;
    version: string;
    kind: string;
    /** The version's openAPIV3Schema. */
    schema: Record<string, any>;
    /** Where it was read: the vendored chart or file, with its upstream repository and ref. */
    source: string;
}

const crdKey = (group: string, version: string, kind: string) => `${group}/${version}:${kind}`;

/** A CRD document parsed, kept as JSON by the hash of its text (YAML-parsing a megabyte CRD takes a second; reading JSON does not). */
function parsedOnce(doc: string): Record<string, any> {
    const dir = path.join(CACHE_DIR, "crd-json");
    const file = path.join(dir, `${createHash("sha256").update(doc).digest("hex")}.json`);
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, any>;
    const crd = parseYaml(doc) as Record<string, any>;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(crd));
    fs.renameSync(`${file}.${process.pid}.tmp`, file);
    return crd;
}

/** The CRDs of a YAML stream whose group and kind are wanted, parsed (only those: CRD schemas run to megabytes). */
function crdsIn(text: string, wanted: ReadonlySet<string>, source: string, into: Map<string, CrdSchema>): void {
    for (const doc of text.split(/^---[ \t]*$/m)) {
        if (!/^kind:[ \t]*CustomResourceDefinition\b/m.test(doc)) continue;
        const group = /^[ \t]+group:[ \t]*["']?([^"'\s]+)/m.exec(doc)?.[1];
        const kind = /^[ \t]+kind:[ \t]*["']?([A-Za-z0-9]+)/m.exec(doc.slice(doc.indexOf("names:")))?.[1];
        if (!group || !kind || !wanted.has(`${group}/${kind}`)) continue;
        const crd = parsedOnce(doc);
        for (const v of crd.spec?.versions ?? []) {
            if (v.served === false || !v.schema?.openAPIV3Schema) continue;
            into.set(crdKey(crd.spec.group, v.name, crd.spec.names.kind), { group: crd.spec.group, version: v.name, kind: crd.spec.names.kind, schema: v.schema.openAPIV3Schema, source });
        }
    }
}

/**
 * The schemas of the custom resources among `resources`: from `helm template` (CRDs included) of
 * every chart the plan releases, with the program's values (renders cached by content), and from the
 * CRDs vendored under vendor/crds (what EKS serves in every cluster).
 */
export async function crdSchemas(plan: readonly ResourceSnapshot[], resources: readonly ResourceSnapshot[] = plan): Promise<Map<string, CrdSchema>> {
    const wanted = new Set(
        resources
            .map((r) => parseKubernetesType(r.type))
            .filter((t): t is NonNullable<typeof t> => !!t && !BUILTIN_GROUPS.has(t.group))
            .map((t) => `${t.group}/${t.kind}`),
    );
    // An AI Gateway route is also checked as the HTTPRoute it generates.
    if (wanted.has("aigateway.envoyproxy.io/AIGatewayRoute")) wanted.add("gateway.networking.k8s.io/HTTPRoute");
    const out = new Map<string, CrdSchema>();
    for (const release of plannedReleases(plan)) {
        const source = chartSource(release.chart.dir);
        crdsIn(await cachedRender(release)(release.values), wanted, `vendor/charts/${release.chart.dir} (${source.repository} ${source.ref})`, out);
    }
    const vendored = path.join(REPO_ROOT, "vendor", "crds");
    for (const dir of fs.existsSync(vendored) ? fs.readdirSync(vendored) : []) {
        const source = JSON.parse(fs.readFileSync(path.join(vendored, dir, "SOURCE.json"), "utf8")) as { repository: string; ref: string; files: Record<string, unknown> };
        for (const file of Object.keys(source.files)) crdsIn(fs.readFileSync(path.join(vendored, dir, file), "utf8"), wanted, `vendor/crds/${dir}/${file} (${source.repository} ${source.ref})`, out);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// A structural schema as the API server applies it

/**
 * The JSON schema ajv checks: Kubernetes' extensions turned into their JSON-schema meaning. An object
 * with properties and no additionalProperties (nor x-kubernetes-preserve-unknown-fields) refuses
 * other fields: the API server would drop them silently, which for a misspelled field is a setting lost.
 */
export function jsonSchemaOf(s: any): any {
    if (s === null || typeof s !== "object") return s;
    const out: Record<string, any> = {};
    for (const [k, v] of Object.entries(s)) {
        if (k.startsWith("x-kubernetes-") || k === "nullable" || k === "description" || k === "example" || k === "externalDocs" || k === "default") continue;
        if (k === "properties") out.properties = Object.fromEntries(Object.entries(v as object).map(([name, p]) => [name, jsonSchemaOf(p)]));
        else if (k === "items" || k === "not") out[k] = jsonSchemaOf(v);
        else if (k === "additionalProperties") out[k] = typeof v === "object" ? jsonSchemaOf(v) : v;
        else if (k === "allOf" || k === "anyOf" || k === "oneOf") out[k] = (v as unknown[]).map(jsonSchemaOf);
        else out[k] = v;
    }
    if (s["x-kubernetes-int-or-string"]) out.type = ["integer", "string"];
    if (s.nullable && out.type) out.type = [...new Set([out.type].flat()), "null"];
    if (s.properties && s.additionalProperties === undefined && !s["x-kubernetes-preserve-unknown-fields"] && !s["x-kubernetes-embedded-resource"]) out.additionalProperties = false;
    return out;
}

/** A value as CEL sees it under its schema: maps, integers as int (bigint), lists. */
function celValue(value: unknown, s: any): unknown {
    if (Array.isArray(value)) return value.map((v) => celValue(v, s?.items));
    if (value !== null && typeof value === "object") {
        return new Map(Object.entries(value).map(([k, v]) => [k, celValue(v, s?.properties?.[k] ?? (typeof s?.additionalProperties === "object" ? s.additionalProperties : undefined))]));
    }
    if (typeof value === "number" && Number.isInteger(value) && (s?.type === "integer" || s?.["x-kubernetes-int-or-string"])) return BigInt(value);
    return value;
}

/** Kubernetes' list semantics and CEL rules, walked with the schema over a value. */
function kubernetesRules(value: unknown, s: any, at: string, errors: string[], unchecked: string[]): void {
    if (value === undefined || value === null || s === null || typeof s !== "object") return;
    for (const rule of (s["x-kubernetes-validations"] ?? []) as { rule: string; message?: string }[]) {
        // Transition rules (oldSelf) apply to updates only; a plan's objects are judged as created.
        if (/\boldSelf\b/.test(rule.rule)) continue;
        let result: unknown;
        try {
            result = run(rule.rule, { self: celValue(value, s) } as never);
        } catch (e) {
            unchecked.push(`${rule.rule} (${(e as Error).message})`);
            continue;
        }
        if (isCelError(result)) unchecked.push(`${rule.rule} (${String((result as { message?: string }).message ?? result)})`);
        else if (result !== true) errors.push(`${at || "/"}: ${rule.message ?? `failed rule ${rule.rule}`}`);
    }
    if (Array.isArray(value)) {
        const listType = s["x-kubernetes-list-type"];
        const keys: string[] | undefined = listType === "map" ? s["x-kubernetes-list-map-keys"] : undefined;
        if (listType === "set" || keys) {
            const seen = new Set<string>();
            for (const item of value) {
                const key = JSON.stringify(keys ? keys.map((k) => (item as Record<string, unknown>)?.[k]) : item);
                if (seen.has(key)) errors.push(`${at}: duplicate ${keys ? `entry for ${keys.join(", ")} ${key}` : `value ${key}`} in a list of type ${listType}`);
                seen.add(key);
            }
        }
        value.forEach((item, i) => kubernetesRules(item, s.items, `${at}/${i}`, errors, unchecked));
        return;
    }
    if (typeof value === "object") {
        for (const [k, v] of Object.entries(value)) {
            const child = s.properties?.[k] ?? (typeof s.additionalProperties === "object" ? s.additionalProperties : undefined);
            if (child) kubernetesRules(v, child, `${at}/${k}`, errors, unchecked);
        }
    }
}

/**
 * The API server matches `pattern` with Go's RE2; JavaScript's RegExp reads the same syntax but for
 * RE2's inline flags. The one the pinned CRDs use, `(?i)`, becomes the case-insensitive flag.
 */
function re2(pattern: string, flags: string): RegExp {
    const insensitive = pattern.includes("(?i)");
    return new RegExp(pattern.replace(/\(\?i\)/g, ""), insensitive ? `${flags}i` : flags);
}
re2.code = "re2";

/** The schema's defaults filled in where a field is absent, as the API server does before it validates (structural defaulting). */
function withDefaults(value: unknown, s: any): unknown {
    if (s === null || typeof s !== "object") return value;
    if (Array.isArray(value)) return value.map((v) => withDefaults(v, s.items));
    if (value === null || typeof value !== "object") return value;
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const [k, p] of Object.entries((s.properties ?? {}) as Record<string, any>)) {
        if (out[k] === undefined && p?.default !== undefined) out[k] = structuredClone(p.default);
    }
    for (const [k, v] of Object.entries(out)) {
        const child = s.properties?.[k] ?? (typeof s.additionalProperties === "object" ? s.additionalProperties : undefined);
        if (child) out[k] = withDefaults(v, child);
    }
    return out;
}

/** All the values of a list as one shape: every key any of them has (for a schema cut to what they use). */
function shapeOf(values: readonly unknown[]): unknown {
    const objects = values.filter((v): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v));
    if (objects.length === 0) return values.find((v) => Array.isArray(v)) ? values.flatMap((v) => (Array.isArray(v) ? v : [])) : values[0];
    const keys = [...new Set(objects.flatMap((o) => Object.keys(o)))];
    return Object.fromEntries(keys.map((k) => [k, shapeOf(objects.map((o) => o[k]).filter((v) => v !== undefined))]));
}

/**
 * The schema cut to the fields a value has: property schemas of absent fields are dropped (their
 * names stay in `required`, and the fields the value has keep their whole schemas). Envoy Gateway's
 * CRDs run to a megabyte; a schema cut to an object's fields compiles in milliseconds and judges that
 * object exactly as the whole one does.
 */
function cutTo(s: any, value: unknown): any {
    if (s === null || typeof s !== "object") return s;
    const out: Record<string, any> = { ...s };
    for (const k of ["allOf", "anyOf", "oneOf"]) if (Array.isArray(s[k])) out[k] = s[k].map((b: any) => cutTo(b, value));
    if (Array.isArray(value)) {
        if (s.items) out.items = cutTo(s.items, shapeOf(value));
        return out;
    }
    if (value !== null && typeof value === "object" && s.properties) {
        out.properties = Object.fromEntries(Object.keys(value).filter((k) => k in s.properties).map((k) => [k, cutTo(s.properties[k], (value as Record<string, unknown>)[k])]));
        // The fields a value may not have are still every field the schema does not list.
        if (out.additionalProperties === false) out.additionalProperties = false;
    }
    if (value !== null && typeof value === "object" && !Array.isArray(value) && typeof s.additionalProperties === "object") {
        out.additionalProperties = cutTo(s.additionalProperties, shapeOf(Object.values(value as Record<string, unknown>)));
    }
    return out;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: re2 } });
const compiled = new Map<string, ValidateFunction>();

/** Why an object fails its CRD's schema (none when it passes). */
export function crdProblems(props: Record<string, unknown>, crd: CrdSchema, unchecked: string[] = []): string[] {
    const value = withDefaults(withoutUnknowns(unwrapSecrets(props)), crd.schema) as Record<string, unknown>;
    const schema = cutTo(jsonSchemaOf(crd.schema), value);
    const key = `${crdKey(crd.group, crd.version, crd.kind)} ${JSON.stringify(schema)}`;
    let validate = compiled.get(key);
    if (!validate) {
        validate = ajv.compile(schema);
        compiled.set(key, validate);
    }
    const problems: string[] = [];
    if (!validate(value)) {
        for (const e of validate.errors ?? []) {
            if (e.keyword === "required" && missingButUnknown(e.instancePath, String(e.params.missingProperty), props)) continue;
            // A field the CRD does not have is wrong whatever its value; other checks wait for values the preview does not know.
            if (e.keyword !== "additionalProperties" && judgedOnUnknown(e.instancePath, props)) continue;
            const detail = e.keyword === "additionalProperties" ? `${e.message} '${String(e.params.additionalProperty)}' (the API server would drop it)` : e.message;
            problems.push(`${e.instancePath || "/"}: ${detail}`);
        }
    }
    const rules: string[] = [];
    kubernetesRules(value, crd.schema, "", rules, unchecked);
    return [...problems, ...rules.filter((r) => !judgedOnUnknown(r.slice(0, r.indexOf(": ")), props))];
}

// ---------------------------------------------------------------------------------------------

type ModelModule = Record<string, new (data: unknown) => { validate(): void }>;

/** Loads a model module: CommonJS and ESM-only packages alike, through the ESM loader. */
async function loadModels(modulePath: string): Promise<ModelModule> {
    const module = (await import(modulePath)) as ModelModule & { default?: ModelModule };
    return { ...(module.default ?? {}), ...module };
}

/** The errors kubernetes-models reports that are not a required property the plan holds as unknown. */
function unexplained(message: string, props: unknown): string[] {
    return message.split(/, (?=data\/)/).filter((part) => {
        const m = /^data((?:\/[^ ]*)?) must have required property '?([^' ]+)'?$/.exec(part.trim());
        return !m || !missingButUnknown(m[1], m[2], props);
    });
}

/**
 * An AIGatewayRoute's rules are a subset of an HTTPRoute's, and the AI Gateway generates an HTTPRoute
 * of the same name from them: its parentRefs, matches and timeouts are also checked against the
 * Gateway API's HTTPRoute CRD (the backends become the AI Gateway's own, so they are left out).
 */
export function derivedHTTPRoute(group: string, kind: string, props: Record<string, any>): Record<string, unknown> | undefined {
    if (group !== "aigateway.envoyproxy.io" || kind !== "AIGatewayRoute") return undefined;
    const rules = (props.spec?.rules ?? []).map((rule: Record<string, unknown>) => {
        const { matches, timeouts } = rule;
        return { ...(matches !== undefined ? { matches } : {}), ...(timeouts !== undefined ? { timeouts } : {}) };
    });
    return { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: props.metadata, spec: { parentRefs: props.spec?.parentRefs, rules } };
}

/** `crds`: crdSchemas of the plan (which must include the Gateway API's HTTPRoute where AI Gateway routes are validated). */
export async function validateKubernetesObjects(resources: readonly ResourceSnapshot[], crds: ReadonlyMap<string, CrdSchema>): Promise<SchemaCheck> {
    const result: SchemaCheck = { validated: [], noSchema: [], errors: [], uncheckedRules: [] };
    const unchecked = new Set<string>();
    for (const r of resources) {
        if (!r.type.startsWith("kubernetes:") || NOT_KUBERNETES_OBJECTS.has(r.type)) continue;
        const parsed = parseKubernetesType(r.type);
        if (!parsed) {
            result.noSchema.push(r.type);
            continue;
        }
        if (BUILTIN_GROUPS.has(parsed.group)) {
            const modulePath = parsed.group === "core" ? `kubernetes-models/${parsed.version}` : `kubernetes-models/${parsed.group}/${parsed.version}`;
            // A server-side apply patch (`DaemonSetPatch`) is a partial object of its kind: validated as that
            // kind, where only a missing required property is no error.
            const patch = /^(.+)Patch$/.exec(parsed.kind)?.[1];
            const Model = (await loadModels(modulePath))[patch ?? parsed.kind];
            if (!Model) {
                result.errors.push(`${r.name} (${r.type}): ${modulePath} has no model ${parsed.kind}`);
                continue;
            }
            try {
                // The provider sees secret values unwrapped.
                new Model(withoutUnknowns(unwrapSecrets(r.props))).validate();
                result.validated.push(r.name);
            } catch (e) {
                const left = unexplained((e as Error).message, unwrapSecrets(r.props)).filter((part) => !patch || !/must have required property/.test(part));
                if (left.length === 0) result.validated.push(r.name);
                else result.errors.push(`${r.name} (${r.type}): ${left.join(", ")}`);
            }
            continue;
        }
        const crd = crds.get(crdKey(parsed.group, parsed.version, parsed.kind));
        if (!crd) {
            result.noSchema.push(r.type);
            continue;
        }
        const ruleGaps: string[] = [];
        const problems = crdProblems(r.props as Record<string, unknown>, crd, ruleGaps);
        for (const g of ruleGaps) unchecked.add(`${parsed.group}/${parsed.kind}: ${g}`);
        const derived = derivedHTTPRoute(parsed.group, parsed.kind, withoutUnknowns(unwrapSecrets(r.props)) as Record<string, any>);
        const httpRoute = crds.get(crdKey("gateway.networking.k8s.io", "v1", "HTTPRoute"));
        if (derived) {
            if (!httpRoute) problems.push("the Gateway API's HTTPRoute CRD is not among the schemas: the HTTPRoute it generates cannot be checked");
            else problems.push(...crdProblems(derived, httpRoute).map((p) => `as the HTTPRoute it generates, ${p}`));
        }
        if (problems.length === 0) result.validated.push(r.name);
        else result.errors.push(`${r.name} (${r.type}): ${problems.join("; ")}`);
    }
    result.uncheckedRules = [...unchecked].sort();
    return result;
}
