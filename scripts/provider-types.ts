#!/usr/bin/env node
/**
 * npm run provider-types [-- --check]
 *
 * Reads the provider SDKs' own TypeScript declarations (@pulumi/aws, @pulumi/kubernetes,
 * @pulumi/random) with the TypeScript compiler API and writes offline/provider-types.json: for every
 * resource class the program constructs, the output properties a create preview leaves unknown, and
 * for every provider, the config keys its ProviderArgs declares and their types. The offline plan
 * reads that file (so it never needs TypeScript at run time); test/provider-types.test.ts fails when it
 * is stale or a planned type is missing. `--check` exits 1 instead of writing when the file is stale.
 *
 * What a create preview leaves unknown, by provider kind:
 * - bridged Terraform providers (aws, random): every attribute the provider computes that the program
 *   does not set, nested ones included. Their output types declare exactly those attributes non-optional
 *   (Required or Computed in the Terraform schema), optional ones with `?`/`| undefined`: for example
 *   aws.eks.Cluster `arn`, `vpcConfig.clusterSecurityGroupId`, `vpcConfig.vpcId` are non-optional
 *   while `vpcConfig.securityGroupIds` is optional.
 * - pulumi-kubernetes: with no reachable cluster, Create at preview returns the checked inputs as they
 *   are (pulumi/pulumi-kubernetes provider/pkg/provider/provider.go, Create: `skipPreview` when the GVK
 *   cannot be looked up, which `gvkExists` answers false for an unreachable cluster), so only the
 *   output-only properties (those not in the resource's Args, such as `status`) are unknown; a Helm
 *   Release's preview also marks `resourceNames` and `status` computed (helm_release.go, checkpointRelease).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { FRAMEWORK_RESOURCES } from "../offline/provider-check";

/** A config value's or property's type, as far as the checks need it. */
export type TypeShape =
    | { type: "string" | "number" | "boolean" | "any" }
    | { type: "array"; items: TypeShape }
    | { type: "map"; values: TypeShape }
    | { type: "object"; name: string; properties: Record<string, TypeShape & { optional?: boolean }> };

export interface ResourceTypeFacts {
    /** The SDK declaration it was read from, relative to node_modules. */
    declaration: string;
    /** Property paths unknown after a create preview unless the program sets them (`a.b`, `list[].c`). */
    previewUnknown: string[];
    /**
     * Inputs the bridged AWS provider's Check adds before the engine diffs (offline/provider-check.ts):
     * `region` where the Args declare a region that is not deprecated, `tagsAll` where they declare
     * `tags` and the resource outputs `tagsAll` (Terraform SDKv2 resources only: FRAMEWORK_RESOURCES).
     */
    checkAdds?: ("region" | "tagsAll")[];
}

export interface ProviderTypes {
    /** The SDK versions read. */
    packages: Record<string, string>;
    resources: Record<string, ResourceTypeFacts>;
    /** Per provider package: its config keys (ProviderArgs) and their types. */
    providerConfig: Record<string, Record<string, TypeShape>>;
}

// docker-build is a native provider like kubernetes: at preview only what it alone computes (digest, ref) is unknown.
const PACKAGES = { aws: "@pulumi/aws", kubernetes: "@pulumi/kubernetes", random: "@pulumi/random", dockerBuild: "@pulumi/docker-build" } as const;
type Pkg = keyof typeof PACKAGES;
const BRIDGED: ReadonlySet<Pkg> = new Set<Pkg>(["aws", "random"]);
/** The Helm Release's preview marks these computed whatever the inputs (helm_release.go, checkpointRelease). */
const HELM_RELEASE_PREVIEW_COMPUTED = ["resourceNames", "status"];
const MAX_DEPTH = 6;

const sourceCache = new Map<string, ts.SourceFile>();
function parse(file: string): ts.SourceFile {
    let sf = sourceCache.get(file);
    if (!sf) sourceCache.set(file, (sf = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, false)));
    return sf;
}

/** Interfaces of a types file (`types/input.d.ts`, `types/output.d.ts`) by their dotted namespace path. */
const interfaceIndex = new Map<string, Map<string, ts.InterfaceDeclaration>>();
function interfacesOf(file: string): Map<string, ts.InterfaceDeclaration> {
    let index = interfaceIndex.get(file);
    if (index) return index;
    index = new Map();
    const visit = (statements: readonly ts.Statement[], prefix: string) => {
        for (const s of statements) {
            if (ts.isInterfaceDeclaration(s)) index!.set(prefix + s.name.text, s);
            else if (ts.isModuleDeclaration(s) && s.body) {
                const name = `${prefix}${s.name.getText(parse(file))}.`;
                if (ts.isModuleBlock(s.body)) visit(s.body.statements, name);
            }
        }
    };
    if (fs.existsSync(file)) visit(parse(file).statements, "");
    interfaceIndex.set(file, index);
    return index;
}

interface Context {
    /** Directory of the package in node_modules. */
    root: string;
    /** The declaration file being read (for local interfaces). */
    file: string;
}

/** Strips `pulumi.Input<T>` / `pulumi.Output<T>` and reports whether `undefined` was in the union. */
function unwrap(node: ts.TypeNode, sf: ts.SourceFile): { node: ts.TypeNode; optional: boolean } {
    let optional = false;
    for (;;) {
        if (ts.isTypeReferenceNode(node) && /^pulumi\.(Input|Output)$/.test(node.typeName.getText(sf)) && node.typeArguments?.length === 1) {
            node = node.typeArguments[0];
            continue;
        }
        if (ts.isParenthesizedTypeNode(node)) {
            node = node.type;
            continue;
        }
        if (ts.isUnionTypeNode(node)) {
            const kept = node.types.filter((t) => t.kind !== ts.SyntaxKind.UndefinedKeyword && !(ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword));
            if (kept.length < node.types.length) optional = true;
            if (kept.length === 1) {
                node = kept[0];
                continue;
            }
            // `string | enums.x.Y` and the like: the first member decides.
            node = kept.find((t) => t.kind === ts.SyntaxKind.StringKeyword) ?? kept[0];
            continue;
        }
        return { node, optional };
    }
}

function shapeOf(typeNode: ts.TypeNode, ctx: Context, depth: number, seen: ReadonlySet<string>): TypeShape {
    const sf = parse(ctx.file);
    const { node } = unwrap(typeNode, sf);
    switch (node.kind) {
        case ts.SyntaxKind.StringKeyword:
            return { type: "string" };
        case ts.SyntaxKind.NumberKeyword:
            return { type: "number" };
        case ts.SyntaxKind.BooleanKeyword:
            return { type: "boolean" };
    }
    if (ts.isLiteralTypeNode(node)) return { type: ts.isStringLiteral(node.literal) ? "string" : ts.isNumericLiteral(node.literal) ? "number" : "boolean" };
    if (ts.isArrayTypeNode(node)) return { type: "array", items: shapeOf(node.elementType, ctx, depth, seen) };
    if (ts.isTypeLiteralNode(node)) {
        const index = node.members.find(ts.isIndexSignatureDeclaration);
        if (index?.type) return { type: "map", values: shapeOf(index.type, ctx, depth, seen) };
        return { type: "any" };
    }
    if (ts.isTypeReferenceNode(node)) {
        const name = node.typeName.getText(sf);
        if (name === "Array" && node.typeArguments?.length === 1) return { type: "array", items: shapeOf(node.typeArguments[0], ctx, depth, seen) };
        if (name === "Record" && node.typeArguments?.length === 2) return { type: "map", values: shapeOf(node.typeArguments[1], ctx, depth, seen) };
        const m = /^(inputs|outputs)\.(.+)$/.exec(name);
        if (m && depth < MAX_DEPTH && !seen.has(name)) {
            const typesFile = path.join(ctx.root, "types", m[1] === "inputs" ? "input.d.ts" : "output.d.ts");
            const decl = interfacesOf(typesFile).get(m[2]);
            if (decl) return objectShape(decl, m[2], { root: ctx.root, file: typesFile }, depth + 1, new Set([...seen, name]));
        }
        if (/^enums\./.test(name)) return { type: "string" };
    }
    return { type: "any" };
}

function objectShape(decl: ts.InterfaceDeclaration, name: string, ctx: Context, depth: number, seen: ReadonlySet<string>): TypeShape {
    const sf = parse(ctx.file);
    const properties: Record<string, TypeShape & { optional?: boolean }> = {};
    for (const member of decl.members) {
        if (!ts.isPropertySignature(member) || !member.type) continue;
        const optional = member.questionToken !== undefined || unwrap(member.type, sf).optional;
        properties[member.name.getText(sf)] = { ...shapeOf(member.type, ctx, depth, seen), ...(optional ? { optional: true } : {}) };
    }
    return { type: "object", name, properties };
}

/** Paths under `shape` that are non-optional, depth first (parents before children). */
function requiredPaths(shape: TypeShape, prefix: string): string[] {
    if (shape.type === "array") return requiredPaths(shape.items, `${prefix}[]`);
    if (shape.type !== "object") return [];
    return Object.entries(shape.properties).flatMap(([k, p]) => [...(p.optional ? [] : [`${prefix}.${k}`]), ...requiredPaths(p, `${prefix}.${k}`)]);
}

/** The class declaration of a resource, its Args interface, and its type token (from the compiled module). */
function resourceDeclaration(pkg: Pkg, modulePath: string[], className: string) {
    const root = path.dirname(require.resolve(`${PACKAGES[pkg]}/package.json`));
    const fileBase = className.charAt(0).toLowerCase() + className.slice(1);
    const rel = path.join(...modulePath, fileBase);
    const dts = path.join(root, `${rel}.d.ts`);
    const js = path.join(root, `${rel}.js`);
    if (!fs.existsSync(dts) || !fs.existsSync(js)) return undefined;
    const token = /__pulumiType\s*=\s*['"]([^'"]+)['"]/.exec(fs.readFileSync(js, "utf8"))?.[1];
    const sf = parse(dts);
    const cls = sf.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === className);
    const args = sf.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === `${className}Args`);
    if (!cls) return undefined;
    return { root, dts, token, cls, args, declaration: path.relative(path.dirname(path.dirname(root)), dts) };
}

/** The facts of one resource class: which of its outputs a create preview leaves unknown. */
export function resourceFacts(pkg: Pkg, modulePath: string[], className: string): { token: string; facts: ResourceTypeFacts } | undefined {
    const found = resourceDeclaration(pkg, modulePath, className);
    if (!found?.token) return undefined;
    const sf = parse(found.dts);
    const ctx: Context = { root: found.root, file: found.dts };
    const inputs = new Set((found.args?.members ?? []).filter((m): m is ts.PropertySignature => ts.isPropertySignature(m)).map((m) => m.name?.getText(sf) ?? ""));
    const unknown: string[] = [];
    for (const member of found.cls.members) {
        if (!ts.isPropertyDeclaration(member) || !member.type || member.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword)) continue;
        const name = member.name.getText(sf);
        if (name === "urn" || name === "id") continue;
        const { optional } = unwrap(member.type, sf);
        if (BRIDGED.has(pkg)) {
            if (!optional) unknown.push(name);
            unknown.push(...requiredPaths(shapeOf(member.type, ctx, 0, new Set()), name));
        } else if (!inputs.has(name)) {
            unknown.push(name);
        }
    }
    if (found.token === "kubernetes:helm.sh/v3:Release") for (const p of HELM_RELEASE_PREVIEW_COMPUTED) if (!unknown.includes(p)) unknown.push(p);
    const checkAdds = pkg === "aws" ? awsCheckAdds(found, sf).filter((k) => k !== "tagsAll" || !FRAMEWORK_RESOURCES[found.token!]) : [];
    return { token: found.token, facts: { declaration: found.declaration, previewUnknown: unknown, ...(checkAdds.length > 0 ? { checkAdds } : {}) } };
}

/** What pulumi-aws's PreCheckCallbacks add to a resource's inputs, by what its declarations have (offline/provider-check.ts). */
function awsCheckAdds(found: NonNullable<ReturnType<typeof resourceDeclaration>>, sf: ts.SourceFile): ("region" | "tagsAll")[] {
    const arg = (name: string) => found.args?.members.find((m): m is ts.PropertySignature => ts.isPropertySignature(m) && m.name.getText(sf) === name);
    const region = arg("region");
    const usableRegion = region !== undefined && !/@deprecated/.test(region.getFullText(sf));
    const outputsTagsAll = found.cls.members.some((m) => ts.isPropertyDeclaration(m) && m.name.getText(sf) === "tagsAll");
    return [...(usableRegion ? (["region"] as const) : []), ...(arg("tags") && outputsTagsAll ? (["tagsAll"] as const) : [])];
}

/** A provider's config keys and their types, from its ProviderArgs. */
export function providerConfigOf(pkg: Pkg): Record<string, TypeShape> {
    const root = path.dirname(require.resolve(`${PACKAGES[pkg]}/package.json`));
    const file = path.join(root, "provider.d.ts");
    const sf = parse(file);
    const args = sf.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === "ProviderArgs");
    if (!args) throw new Error(`${file}: no ProviderArgs`);
    const out: Record<string, TypeShape> = {};
    for (const m of args.members) if (ts.isPropertySignature(m) && m.type) out[m.name.getText(sf)] = shapeOf(m.type, { root, file }, 0, new Set());
    return out;
}

/**
 * The provider resource classes a program's sources construct (`new aws.eks.Cluster(...)`), by the
 * alias each file imports the SDK under. Providers themselves (`new k8s.Provider`) are left out.
 */
export function constructedClasses(files: readonly string[]): { pkg: Pkg; modulePath: string[]; className: string }[] {
    const found = new Map<string, { pkg: Pkg; modulePath: string[]; className: string }>();
    for (const file of files) {
        const sf = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
        const aliases = new Map<string, Pkg>();
        for (const s of sf.statements) {
            if (!ts.isImportDeclaration(s) || !ts.isStringLiteral(s.moduleSpecifier)) continue;
            const pkg = (Object.keys(PACKAGES) as Pkg[]).find((p) => PACKAGES[p] === (s.moduleSpecifier as ts.StringLiteral).text);
            const binding = s.importClause?.namedBindings;
            if (pkg && binding && ts.isNamespaceImport(binding)) aliases.set(binding.name.text, pkg);
        }
        const visit = (node: ts.Node) => {
            if (ts.isNewExpression(node)) {
                const chain: string[] = [];
                let e: ts.Expression = node.expression;
                while (ts.isPropertyAccessExpression(e)) {
                    chain.unshift(e.name.text);
                    e = e.expression;
                }
                if (ts.isIdentifier(e) && aliases.has(e.text) && chain.length > 0) {
                    const pkg = aliases.get(e.text)!;
                    const className = chain[chain.length - 1];
                    if (className !== "Provider") found.set(`${pkg}:${chain.join(".")}`, { pkg, modulePath: chain.slice(0, -1), className });
                }
            }
            ts.forEachChild(node, visit);
        };
        visit(sf);
    }
    return [...found.values()].sort((a, b) => `${a.pkg}.${a.modulePath.join(".")}.${a.className}`.localeCompare(`${b.pkg}.${b.modulePath.join(".")}.${b.className}`));
}

/** The program's sources the generator scans. */
export function programSources(repo: string): string[] {
    return ["components", "stacks", "stacks/config"].flatMap((dir) =>
        fs
            .readdirSync(path.join(repo, dir))
            .filter((f) => f.endsWith(".ts"))
            .map((f) => path.join(repo, dir, f)),
    );
}

/**
 * The program's dynamic resources (pulumi.dynamic.Resource subclasses, `pulumi-nodejs:dynamic/<module>:<type>`):
 * no provider declares them, and the engine does not call a dynamic provider's create during a
 * preview, so their outputs are their inputs and nothing is unknown.
 */
export function dynamicResources(files: readonly string[]): Record<string, ResourceTypeFacts> {
    const found: Record<string, ResourceTypeFacts> = {};
    for (const file of files) {
        const text = fs.readFileSync(file, "utf8");
        if (!/extends pulumi\.dynamic\.Resource\b/.test(text)) continue;
        for (const m of text.matchAll(/super\(provider, name, [^,]+, opts, "([\w-]+)", "(\w+)"\)/g)) {
            found[`pulumi-nodejs:dynamic/${m[1]}:${m[2]}`] = { declaration: path.relative(path.resolve(path.dirname(file), ".."), file), previewUnknown: [] };
        }
    }
    return found;
}

export function readProviderTypes(repo: string): ProviderTypes {
    const resources: Record<string, ResourceTypeFacts> = { ...dynamicResources(programSources(repo)) };
    for (const c of constructedClasses(programSources(repo))) {
        // A CustomResource's token is its apiVersion and kind: any Kubernetes type without a class of its own (offline/mocks.ts).
        if (c.pkg === "kubernetes" && c.className === "CustomResource") continue;
        const r = resourceFacts(c.pkg, c.modulePath, c.className);
        if (!r) throw new Error(`no declaration for ${PACKAGES[c.pkg]} ${[...c.modulePath, c.className].join(".")}`);
        resources[r.token] = r.facts;
    }
    const version = (pkg: Pkg) => (JSON.parse(fs.readFileSync(require.resolve(`${PACKAGES[pkg]}/package.json`), "utf8")) as { version: string }).version;
    return {
        packages: Object.fromEntries((Object.keys(PACKAGES) as Pkg[]).map((p) => [PACKAGES[p], version(p)])),
        resources: Object.fromEntries(Object.entries(resources).sort(([a], [b]) => a.localeCompare(b))),
        providerConfig: Object.fromEntries((Object.keys(PACKAGES) as Pkg[]).filter((p) => BRIDGED.has(p)).map((p) => [p, providerConfigOf(p)])),
    };
}

export const PROVIDER_TYPES_FILE = "offline/provider-types.json";

if (require.main === module) {
    const repo = path.resolve(__dirname, "../..");
    const text = `${JSON.stringify(readProviderTypes(repo), null, 1)}\n`;
    const file = path.join(repo, PROVIDER_TYPES_FILE);
    if (process.argv.includes("--check")) {
        const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
        if (current !== text) {
            process.stderr.write(`${PROVIDER_TYPES_FILE} is stale: run npm run provider-types\n`);
            process.exit(1);
        }
    } else {
        fs.writeFileSync(file, text);
        process.stdout.write(`wrote ${PROVIDER_TYPES_FILE}\n`);
    }
}
