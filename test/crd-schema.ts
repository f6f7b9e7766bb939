import * as fs from "node:fs";
import Ajv, { ErrorObject, ValidateFunction } from "ajv";
import { parse as parseYaml } from "yaml";

/**
 * Custom resources checked against their CustomResourceDefinition's own schema, as the API server
 * checks them: the `openAPIV3Schema` of the served version, read from CRD files vendored from the
 * chart that installs them at the pinned version. Kubernetes' structural-schema extensions are
 * honoured (`x-kubernetes-int-or-string`, `x-kubernetes-preserve-unknown-fields`, `nullable`); a field
 * the schema does not declare is an error, as server-side apply with strict field validation makes
 * it (a misspelled field would otherwise be pruned in silence). `x-kubernetes-validations` (CEL
 * rules) and string formats are not evaluated.
 *
 * The schemas are large (Envoy Gateway's EnvoyProxy embeds whole pod templates), so each object is
 * checked against its schema cut down to the properties the object has: a property it lacks is
 * never checked anyway, and the cut keeps every level's `required` and closed property list.
 */

type Schema = Record<string, any>;

/** A Kubernetes structural schema as a JSON Schema ajv validates. */
export function jsonSchemaOf(k8s: Schema): Schema {
    const out: Schema = {};
    for (const key of ["type", "enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "required"]) {
        if (k8s[key] !== undefined) out[key] = k8s[key];
    }
    if (k8s.properties) out.properties = Object.fromEntries(Object.entries(k8s.properties as Record<string, Schema>).map(([k, v]) => [k, jsonSchemaOf(v)]));
    if (k8s.items) out.items = jsonSchemaOf(k8s.items);
    if (typeof k8s.additionalProperties === "object") out.additionalProperties = jsonSchemaOf(k8s.additionalProperties);
    else if (k8s.additionalProperties === false || (k8s.properties && k8s["x-kubernetes-preserve-unknown-fields"] !== true)) out.additionalProperties = false;
    for (const combinator of ["allOf", "anyOf", "oneOf"]) if (Array.isArray(k8s[combinator])) out[combinator] = k8s[combinator].map(jsonSchemaOf);
    if (k8s.not) out.not = jsonSchemaOf(k8s.not);
    if (k8s["x-kubernetes-int-or-string"]) {
        delete out.type;
        out.anyOf = [...(out.anyOf ?? []), { type: "integer" }, { type: "string" }];
    }
    if (k8s.nullable && typeof out.type === "string") out.type = [out.type, "null"];
    return out;
}

/** Values merged key by key (list elements together): the shape of every element of a list at once. */
function union(values: readonly unknown[]): unknown {
    const objects = values.filter((v): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v));
    if (objects.length > 0) {
        const keys = [...new Set(objects.flatMap((o) => Object.keys(o)))];
        return Object.fromEntries(keys.map((k) => [k, union(objects.map((o) => o[k]).filter((v) => v !== undefined))]));
    }
    const lists = values.filter(Array.isArray);
    if (lists.length > 0) return lists.flat();
    return values[0];
}

/** The part of a (JSON) schema that `value` reaches: the properties it has, at every depth. */
export function schemaFor(schema: Schema, value: unknown): Schema {
    const out: Schema = { ...schema };
    const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
    if (schema.properties) {
        const present = isObject ? Object.keys(value) : [];
        out.properties = Object.fromEntries(present.filter((k) => schema.properties[k]).map((k) => [k, schemaFor(schema.properties[k], (value as Record<string, unknown>)[k])]));
    }
    if (typeof schema.additionalProperties === "object") out.additionalProperties = schemaFor(schema.additionalProperties, isObject ? union(Object.values(value)) : undefined);
    if (schema.items) out.items = schemaFor(schema.items, Array.isArray(value) ? union(value) : undefined);
    for (const combinator of ["allOf", "anyOf", "oneOf"]) if (Array.isArray(schema[combinator])) out[combinator] = schema[combinator].map((s: Schema) => schemaFor(s, value));
    return out;
}

/** The CRDs of the given files, by `group/version/Kind`: each served version's schema, compiled when first asked for. */
export class CrdSchemas {
    private readonly ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    private readonly schemas = new Map<string, Schema>();
    private readonly compiled = new Map<string, ValidateFunction>();

    constructor(files: readonly string[]) {
        for (const file of files) {
            for (const doc of fs.readFileSync(file, "utf8").split(/^---\s*$/m)) {
                if (doc.trim() === "") continue;
                const crd = parseYaml(doc, { uniqueKeys: false }) as Schema | null;
                if (crd?.kind !== "CustomResourceDefinition") continue;
                for (const version of crd.spec.versions ?? []) {
                    if (version.served && version.schema?.openAPIV3Schema) this.schemas.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, version.schema.openAPIV3Schema);
                }
            }
        }
    }

    /** Whether a served version of the kind has a schema here. */
    has(group: string, version: string, kind: string): boolean {
        return this.schemas.has(`${group}/${version}/${kind}`);
    }

    /** The schema's complaints about `object` (apiVersion, kind, metadata and spec), as `path message`; empty when it conforms. */
    problems(group: string, version: string, kind: string, object: unknown): string[] {
        const schema = this.schemas.get(`${group}/${version}/${kind}`);
        if (!schema) return [`no CRD schema for ${group}/${version}/${kind}`];
        const cut = schemaFor(jsonSchemaOf(schema), object);
        const key = JSON.stringify(cut);
        let validate = this.compiled.get(key);
        if (!validate) this.compiled.set(key, (validate = this.ajv.compile(cut)));
        if (validate(object)) return [];
        return (validate.errors ?? []).map(describe);
    }
}

function describe(e: ErrorObject): string {
    const at = e.instancePath || "(object)";
    if (e.keyword === "additionalProperties") return `${at}/${(e.params as { additionalProperty: string }).additionalProperty}: is not a field of the schema`;
    if (e.keyword === "required") return `${at}: must have required property '${(e.params as { missingProperty: string }).missingProperty}'`;
    return `${at}: ${e.message}`;
}
