import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { ResourceSnapshot } from "compute-region-policies/engine";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { runOfflinePlan } from "../offline/harness";
import * as components from "../plugin/index";
import { PLUGIN_DIR, PLUGIN_OPTIONS } from "../plugin/provider";
import { GPU_RESOURCE, LABELS, poolTaints, REGISTRY_VERSION, shardCohort } from "compute-region-policies/model";
import { ROOT } from "./helpers";

/*
 * The plugin as another Pulumi language sees it, without the Pulumi CLI: the schema Pulumi's own
 * component provider infers from the sources (the analyzer runs the TypeScript compiler over them,
 * once for the file), validated against Pulumi's package metaschema at the pinned version, and each
 * component constructed through the provider's `construct` with plain JSON inputs named as in that
 * schema, as a YAML program passes them.
 */

type Property = { type?: string; $ref?: string; items?: Property; additionalProperties?: Property; description?: string; enum?: { value: unknown }[] };
type Resource = { description?: string; isComponent?: boolean; inputProperties: Record<string, Property>; requiredInputs: string[]; properties: Record<string, Property>; required: string[] };
interface PackageSchema {
    name: string;
    version: string;
    resources: Record<string, Resource>;
    types: Record<string, { type: string; properties?: Record<string, Property>; required?: string[]; enum?: { name?: string; value: unknown; description?: string }[] }>;
}

const FACTS = { region: "us-east-2", accountId: "111122223333" };
const TYPE_PREFIX = "#/types/";
const EXPORTED = Object.keys(components).sort();

let provider: ComponentProvider;
let schema: PackageSchema;

beforeAll(async () => {
    provider = new ComponentProvider({ ...PLUGIN_OPTIONS, dirname: PLUGIN_DIR });
    schema = JSON.parse(await provider.getSchema()) as PackageSchema;
}, 180_000);

/** The problems of a value given for a schema property: unknown names, missing required ones, wrong kinds, values outside an enum. */
function schemaProblems(value: unknown, property: Property, at: string): string[] {
    if (property.$ref?.startsWith("pulumi.json#/Any")) return [];
    if (property.$ref) {
        const type = schema.types[decodeURIComponent(property.$ref.slice(TYPE_PREFIX.length))];
        if (!type) return [`${at}: ${property.$ref} is not in the schema's types`];
        if (type.enum) return type.enum.some((e) => e.value === value) ? [] : [`${at}: ${JSON.stringify(value)} is not one of ${type.enum.map((e) => JSON.stringify(e.value)).join(", ")}`];
        return objectProblems(value, type.properties ?? {}, type.required ?? [], at);
    }
    switch (property.type) {
        case "string":
        case "number":
        case "boolean":
            return typeof value === property.type ? [] : [`${at}: ${JSON.stringify(value)} is not a ${property.type}`];
        case "integer":
            return Number.isInteger(value) ? [] : [`${at}: ${JSON.stringify(value)} is not an integer`];
        case "array":
            return Array.isArray(value) ? value.flatMap((v, i) => schemaProblems(v, property.items!, `${at}[${i}]`)) : [`${at}: not a list`];
        case "object":
            if (typeof value !== "object" || value === null || Array.isArray(value)) return [`${at}: not a map`];
            return property.additionalProperties ? Object.entries(value).flatMap(([k, v]) => schemaProblems(v, property.additionalProperties!, `${at}.${k}`)) : [];
        default:
            return [`${at}: the schema property has no type: ${JSON.stringify(property)}`];
    }
}

function objectProblems(value: unknown, properties: Record<string, Property>, required: string[], at: string): string[] {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return [`${at}: not an object`];
    const given = value as Record<string, unknown>;
    return [
        ...Object.keys(given)
            .filter((k) => !(k in properties))
            .map((k) => `${at}.${k}: not an input of the schema`),
        ...required.filter((k) => !(k in given)).map((k) => `${at}.${k}: required by the schema, not given`),
        ...Object.entries(given).flatMap(([k, v]) => (properties[k] ? schemaProblems(v, properties[k], `${at}.${k}`) : [])),
    ];
}

/** Inputs a program gives a component, checked against its resource in the schema. */
function inputProblems(token: string, inputs: Record<string, unknown>): string[] {
    const resource = schema.resources[token];
    if (!resource) return [`${token}: not a resource of the schema`];
    return objectProblems(inputs, resource.inputProperties, resource.requiredInputs, token);
}

interface Constructed {
    urn: string;
    state: Record<string, unknown>;
    resources: ResourceSnapshot[];
}

/** Constructs a component through the provider, as the engine asks a plugin to, under the offline plan's mocks. */
async function construct(token: string, name: string, inputs: Record<string, unknown>, stackOutputs?: Record<string, Record<string, unknown>>): Promise<Constructed> {
    let result: { urn: unknown; state: Record<string, unknown> } | undefined;
    const plan = await runOfflinePlan({
        project: { name: "plugin-test", main: ROOT, directory: ROOT, config: {} },
        stack: "plugin",
        config: { values: { "aws:region": FACTS.region }, secretKeys: [], placeholderSecrets: [], source: "test" },
        facts: { ...FACTS, stackOutputs },
        program: async () => {
            result = await provider.construct(name, token, structuredClone(inputs), {});
        },
    });
    const state: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(result!.state)) state[k] = v;
    return { urn: await (result!.urn as { promise(): Promise<string> }).promise(), state, resources: plan.resources };
}

describe("the plugin's schema, inferred by Pulumi's component provider from the sources", () => {
    it("names every exported component, as compute-region:index:<Name>, with its inputs and outputs", () => {
        expect(schema.name).toBe("compute-region");
        expect(Object.keys(schema.resources).sort()).toEqual(EXPORTED.map((n) => `compute-region:index:${n}`).sort());
        for (const name of EXPORTED) {
            const resource = schema.resources[`compute-region:index:${name}`];
            expect(resource.isComponent, name).toBe(true);
            expect(Object.keys(resource.inputProperties).length, `${name} inputs`).toBeGreaterThan(0);
        }
        const region = schema.resources["compute-region:index:Region"];
        expect(region.requiredInputs).toEqual(expect.arrayContaining(["availabilityZones", "cluster", "gpuPools", "network", "observability", "region", "stack", "threatDetection"]));
        expect(Object.keys(region.inputProperties)).toEqual(expect.arrayContaining(["tenants", "billing", "models", "gateway", "slos", "alerting", "layer", "shards"]));
        // Outputs are plain values, never a child component (inference cannot serve this package's resources).
        expect(Object.keys(region.properties).sort()).toEqual(["capacity", "clusterEndpoint", "clusterName", "kubeconfig", "tenantNamespaces", "vpcId"]);
    });

    it("serves closed sets as enums (pool roles, tenant states, NAT gateway modes)", () => {
        const values = (type: string) => schema.types[`compute-region:index:${type}`]?.enum?.map((e) => e.value);
        expect(values("PoolRole")).toEqual(["internal", "serving", "shared", "dedicated"]);
        expect(values("TenantState")).toEqual(["active", "suspended", "decommissioned"]);
        expect(values("NatGatewayMode")).toEqual(["perAz", "single"]);
        expect(schema.resources["compute-region:index:Region"].inputProperties.gpuPools.items?.$ref).toBe("#/types/compute-region:index:RegionPool");
    });

    it("is valid under Pulumi's package metaschema (pkg/codegen/schema/pulumi.json at v3.248.0)", () => {
        const metaschema = JSON.parse(fs.readFileSync(path.join(ROOT, "vendor/pulumi-package-metaschema-v3.248.0/pulumi.json"), "utf8"));
        const validate = new Ajv2020({ strict: false, allErrors: true }).compile(metaschema);
        expect(validate(schema), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
        // and the metaschema rejects what a broken inference would produce: a resource property without a type.
        const broken = structuredClone(schema);
        broken.resources["compute-region:index:Network"].inputProperties.vpcCidr = { description: "no type" } as Property;
        expect(validate(broken)).toBe(false);
    });

    it("documents every component, input, output and type property (JSDoc on every class, Args and type field)", () => {
        const undocumented: string[] = [];
        for (const [token, resource] of Object.entries(schema.resources)) {
            if (!resource.description) undocumented.push(token);
            for (const [k, p] of Object.entries(resource.inputProperties)) if (!p.description) undocumented.push(`${token} input ${k}`);
            for (const [k, p] of Object.entries(resource.properties)) if (!p.description) undocumented.push(`${token} output ${k}`);
        }
        for (const [token, type] of Object.entries(schema.types)) for (const [k, p] of Object.entries(type.properties ?? {})) if (!p.description) undocumented.push(`${token}.${k}`);
        expect(undocumented).toEqual([]);
    });

    it("is what the plugin process serves: the version is the library's, the provider name the tokens'", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
        expect(schema.version).toBe(pkg.version);
        expect(parseYaml(fs.readFileSync(path.join(PLUGIN_DIR, "PulumiPlugin.yaml"), "utf8"))).toMatchObject({ runtime: { name: "nodejs" } });
        const pluginPackage = JSON.parse(fs.readFileSync(path.join(PLUGIN_DIR, "package.json"), "utf8")) as { main: string };
        expect(path.resolve(PLUGIN_DIR, pluginPackage.main)).toBe(path.join(ROOT, "bin", "plugin", "host.js"));
    });
});

/** The YAML example's Region properties, with its config's defaults and the stack name put in for their `${...}`. */
function yamlExample(stack: string): { doc: Record<string, any>; properties: Record<string, unknown> } {
    const doc = parseYaml(fs.readFileSync(path.join(ROOT, "examples/yaml-region/Pulumi.yaml"), "utf8")) as Record<string, any>;
    const values: Record<string, unknown> = { "pulumi.stack": stack };
    for (const [key, declaration] of Object.entries(doc.config as Record<string, { default: unknown }>)) values[key] = declaration.default;
    const resolve = (v: unknown): unknown => {
        if (typeof v === "string") {
            const whole = /^\$\{([^}]+)\}$/.exec(v);
            if (whole) {
                if (!(whole[1] in values)) throw new Error(`examples/yaml-region: \${${whole[1]}} is neither config nor pulumi.stack`);
                return values[whole[1]];
            }
            return v;
        }
        if (Array.isArray(v)) return v.map(resolve);
        if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
        return v;
    };
    return { doc, properties: resolve(doc.resources.region.properties) as Record<string, unknown> };
}

describe("examples/yaml-region: a Pulumi YAML program of the Region", () => {
    it("declares the plugin as `pulumi package add` records a local plugin, and uses only schema inputs", () => {
        const { doc, properties } = yamlExample("dev");
        expect(doc.runtime).toBe("yaml");
        expect(path.resolve(ROOT, "examples/yaml-region", doc.packages["compute-region"])).toBe(PLUGIN_DIR);
        expect(doc.resources.region.type).toBe("compute-region:index:Region");
        expect(inputProblems("compute-region:index:Region", properties)).toEqual([]);
        for (const output of Object.values(doc.outputs as Record<string, string>)) {
            const property = /^\$\{region\.(\w+)\}$/.exec(output)?.[1];
            expect(Object.keys(schema.resources["compute-region:index:Region"].properties), output).toContain(property);
        }
    });

    it("the schema check finds a wrong value, an unknown name and a missing input", () => {
        const { properties } = yamlExample("dev");
        const bad = structuredClone(properties) as Record<string, any>;
        bad.gpuPools[0].role = "spare";
        bad.network.natGateway = "single";
        delete bad.cluster;
        expect(inputProblems("compute-region:index:Region", bad)).toEqual([
            "compute-region:index:Region.cluster: required by the schema, not given",
            'compute-region:index:Region.network.natGateway: not an input of the schema',
            'compute-region:index:Region.gpuPools[0].role: "spare" is not one of "internal", "serving", "shared", "dedicated"',
        ]);
    });

    it("constructs through the provider: the region's network, cluster, pools and tenant, with the outputs the program reads", async () => {
        const { properties } = yamlExample("yaml-dev");
        const region = await construct("compute-region:index:Region", "yaml-dev", properties);
        expect(region.urn).toBe("urn:pulumi:plugin::plugin-test::compute-region:index:Region::yaml-dev");
        const named = (type: string, name: string) => region.resources.find((r) => r.type === type && r.name === name);
        expect(named("compute-region:index:Network", "yaml-dev-network")?.parent).toBe(region.urn);
        expect(named("aws:ec2/vpc:Vpc", "yaml-dev-network-vpc")?.props).toMatchObject({ cidrBlock: "10.60.0.0/16" });
        expect(named("aws:eks/cluster:Cluster", "yaml-dev-cluster-eks")?.props).toMatchObject({ name: "gpu-yaml-use2" });
        expect(named("compute-region:index:GpuNodeGroup", "yaml-dev-shared-l40s")).toBeDefined();
        expect(named("kubernetes:core/v1:Namespace", "yaml-dev-tenant-initech-ns")?.props).toMatchObject({ metadata: { name: "tenant-initech" } });
        // The state the engine gets back: the schema's outputs.
        expect(Object.keys(region.state).sort()).toEqual(Object.keys(schema.resources["compute-region:index:Region"].properties).sort());
        expect(region.state.tenantNamespaces).toEqual(["tenant-initech"]);
        expect((region.state.capacity as { pool: string; sellable: number }[]).map((c) => [c.pool, c.sellable])).toEqual([
            ["internal-l40s", 0],
            ["shared-l40s", 12],
        ]);
    });
});

/** Inputs of each other component, as a program in another language would give them (plain values, schema names). */
const ADDRESSING = { vpcCidr: "10.60.0.0/16", serviceCidr: "172.20.0.0/16", clusterSubnetCidrs: ["10.60.0.0/19", "10.60.32.0/19"], privateSubnetCidrs: ["10.60.0.0/19", "10.60.32.0/19"] };
/** A pool's capacity figures, as the Region's `capacity` output gives them. */
const SHARED_POOL = { pool: "shared-l40s", role: "shared", instanceType: "g6e.12xlarge", gpuModel: "l40s", minNodes: 2, maxNodes: 4, gpusPerNode: 4, guaranteed: 8, headroom: 0.25, headroomGpus: 2, sellable: 6, sold: 4, free: 2, maxGpus: 16, burst: 8 };
const DEDICATED_POOL = { ...SHARED_POOL, pool: "initech-l40s", role: "dedicated", minNodes: 1, maxNodes: 1, guaranteed: 4, headroom: 0, headroomGpus: 0, sellable: 4, sold: 4, free: 0, maxGpus: 4, burst: 0 };
/** A platform stack's outputs as its shards read them (stacks/program.ts PlatformOutputs). */
const PLATFORM_OUTPUTS = {
    clusterName: "c1",
    kubeconfig: "apiVersion: v1\nkind: Config\n",
    vpcCidr: "10.60.0.0/16",
    serviceCidr: "172.20.0.0/16",
    shards: { a: { "shared-l40s": 4 } },
    billing: {
        currency: "USD",
        prices: [{ track: "reserved", item: "l40s", unit: "gpu_hour", unitPrice: "1.95", effectiveFrom: "2026-01-01" }],
        pools: [{ name: "shared-l40s", gpuModel: "l40s", role: "shared", gpus: 8 }],
        image: "111122223333.dkr.ecr.us-east-2.amazonaws.com/billing@sha256:0123",
        databaseHost: "c1-billing.example.us-east-2.rds.amazonaws.com",
    },
};
const REGISTRY = { version: REGISTRY_VERSION, scope: "region", currency: "USD", prices: PLATFORM_OUTPUTS.billing.prices, pools: PLATFORM_OUTPUTS.billing.pools, models: [], tenants: [] };
const MODEL = { name: "llama", image: "vllm/vllm-openai:v0.10.0", pool: "serving-l40s", gpusPerReplica: 2, replicas: { min: 1, max: 3 }, maxModelLength: 8192, weights: "s3://weights/llama/", targets: { queueDepth: 4, p95LatencySeconds: 8 } };

/** A registered resource's inputs, by type and name. */
function propsOf(built: Constructed, type: string, name: string): Record<string, any> {
    const found = built.resources.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`${type} ${name} is not registered`);
    return found.props as Record<string, any>;
}

interface ComponentCase {
    inputs: Record<string, unknown>;
    registers: [type: string, name: string][];
    /** Outputs of other stacks the component reads (a StackReference), by stack name. */
    stackOutputs?: Record<string, Record<string, unknown>>;
    /** What its plain inputs must have become: values a wrong reading of them would change. */
    check?: (built: Constructed) => void;
}

const COMPONENT_INPUTS: Record<string, ComponentCase> = {
    Network: {
        inputs: { availabilityZones: ["us-east-2a", "us-east-2b"], vpcCidr: "10.60.0.0/16", subnetPrefixLengths: { public: 24, private: 19, isolated: 24 }, natGateways: "perAz", flowLogRetentionDays: 30, clusterName: "c1", tags: { team: "ml" } },
        registers: [
            ["aws:ec2/vpc:Vpc", "net-vpc"],
            ["aws:ec2/natGateway:NatGateway", "net-nat-us-east-2b"],
            ["aws:ec2/subnet:Subnet", "net-isolated-us-east-2a"],
        ],
    },
    Cluster: {
        inputs: {
            clusterName: "c1",
            kubernetesVersion: "1.34",
            vpcId: "vpc-0123",
            subnetIds: ["subnet-a", "subnet-b"],
            serviceCidr: "172.20.0.0/16",
            addressing: ADDRESSING,
            publicAccess: false,
            publicAccessCidrs: [],
            adminRoleArns: ["arn:aws:iam::111122223333:role/Admin"],
            deployerRoleArn: "arn:aws:iam::111122223333:role/Deployer",
            logRetentionDays: 30,
            systemNodeGroup: { instanceType: "m7i.xlarge", minSize: 2, maxSize: 3, diskSizeGiB: 100 },
            tags: {},
        },
        registers: [
            ["aws:eks/cluster:Cluster", "cl-eks"],
            ["aws:eks/nodeGroup:NodeGroup", "cl-system"],
            ["pulumi:providers:kubernetes", "cl-k8s"],
        ],
    },
    GpuNodeGroup: {
        inputs: {
            clusterName: "c1",
            kubernetesVersion: "1.34",
            region: "us-east-2",
            poolName: "shared-l40s",
            role: "shared",
            instanceType: "g6e.12xlarge",
            minNodes: 1,
            maxNodes: 2,
            subnetIds: ["subnet-a"],
            nodeRoleArn: "arn:aws:iam::111122223333:role/Gpu",
            clusterSecurityGroupId: "sg-1",
            rootVolumeGiB: 500,
            placementGroup: false,
            capacityReservation: { id: "cr-0123", type: "on-demand", instances: 2 },
            vpcId: "vpc-0123",
            tags: {},
        },
        registers: [
            ["aws:eks/nodeGroup:NodeGroup", "pool-nodes"],
            ["aws:ec2/launchTemplate:LaunchTemplate", "pool-lt"],
            ["pulumi-nodejs:dynamic/compute-region:NodeGroupScaling", "pool-scaling"],
        ],
    },
    Tenant: {
        inputs: {
            name: "initech",
            state: "active",
            quotas: [{ pool: "shared-l40s", reserved: 4, spot: 2 }],
            members: ["arn:aws:iam::111122223333:role/Initech"],
            internetEgress: false,
            allowCidrs: [],
            vpcCidr: "10.60.0.0/16",
            serviceCidr: "172.20.0.0/16",
            limits: { cpu: 48, memoryGiB: 480, storageGiB: 4000, pods: 80 },
            clusterName: "c1",
            tags: {},
        },
        registers: [
            ["kubernetes:core/v1:Namespace", "t-ns"],
            ["kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "t-shared-l40s-queue"],
        ],
    },
    ServingPlatform: { inputs: { addressing: ADDRESSING, autoscaler: true }, registers: [["kubernetes:helm.sh/v3:Release", "serving-keda"]] },
    ModelGateway: {
        inputs: {
            clusterName: "c1",
            hostname: "models.example.com",
            certificateArn: "arn:aws:acm:us-east-2:111122223333:certificate/abc",
            clientCidrs: ["0.0.0.0/0"],
            replicas: 2,
            addressing: ADDRESSING,
            models: [{ name: "llama", serviceName: "llama" }],
            tenants: [{ name: "initech", state: "active", models: ["llama"], apiKeyVersion: 1, members: [] }],
            defaultRateLimits: { requestsPerMinute: 600, tokensPerMinute: 100000 },
            invocationLogs: false,
            tags: {},
        },
        registers: [["aws:secretsmanager/secret:Secret", "gw-key-initech"]],
    },
    ThreatDetection: {
        inputs: {
            mode: "managed",
            minimumSeverity: 4,
            agentPriorityClass: "system-node-critical",
            clusterName: "c1",
            kubernetesVersion: "1.34",
            region: "us-east-2",
            accountId: "111122223333",
            vpcId: "vpc-0123",
            privateSubnetIds: ["subnet-a"],
            addressing: ADDRESSING,
            tags: {},
        },
        registers: [
            ["aws:guardduty/detector:Detector", "td-detector"],
            ["aws:eks/addon:Addon", "td-agent"],
        ],
    },
    InferenceService: {
        inputs: { model: MODEL, instanceType: "g6e.12xlarge", clusterName: "c1", prometheusUrl: "http://prometheus.observability:9090", partition: "aws", tags: {} },
        registers: [
            ["kubernetes:apps/v1:Deployment", "svc-deployment"],
            ["kubernetes:keda.sh/v1alpha1:ScaledObject", "svc-autoscale"],
            ["kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "svc-monitor"],
        ],
        check: (built) => {
            // The instance type named by the input sizes the server: a g6e.12xlarge's 4 GPUs, 48 vCPUs and 384 GiB shared per GPU.
            const spec = propsOf(built, "kubernetes:apps/v1:Deployment", "svc-deployment").spec;
            expect(spec.template.spec.nodeSelector).toEqual({ [LABELS.pool]: "serving-l40s" });
            expect(spec.template.spec.containers[0].resources.limits).toEqual({ [GPU_RESOURCE]: "2", cpu: "18", memory: "152Gi" });
            expect(propsOf(built, "kubernetes:keda.sh/v1alpha1:ScaledObject", "svc-autoscale").spec).toMatchObject({ minReplicaCount: 1, maxReplicaCount: 3 });
        },
    },
    BillingDatabase: {
        inputs: {
            clusterName: "c1",
            vpcId: "vpc-0123",
            isolatedSubnetIds: ["subnet-i1", "subnet-i2"],
            isolatedSubnetCidrs: ["10.60.64.0/24", "10.60.65.0/24"],
            privateSubnetCidrs: ["10.60.0.0/19", "10.60.32.0/19"],
            serviceCidr: "172.20.0.0/16",
            clusterSecurityGroupId: "sg-1",
            registry: JSON.stringify(REGISTRY),
            eksClusterName: "c1",
            aws: { accountId: "111122223333", partition: "aws", region: "us-east-2", dnsSuffix: "amazonaws.com" },
            tags: {},
            instanceClass: "db.r6g.large",
            engineVersion: "16",
            allocatedStorageGiB: 50,
            maxAllocatedStorageGiB: 200,
            backupRetentionDays: 14,
            meteringImage: "111122223333.dkr.ecr.us-east-2.amazonaws.com/billing@sha256:0123",
            meteringSchedule: "*/15 * * * *",
        },
        registers: [
            ["aws:rds/instance:Instance", "billing-postgres"],
            ["kubernetes:core/v1:ConfigMap", "billing-migrations"],
            ["kubernetes:batch/v1:CronJob", "billing-metering"],
            // Tenants' usage statements: their CRD, the writer ClusterRole tenants bind, the Job.
            ["kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", "billing-usage-statements"],
            ["kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "billing-statement-writer"],
            ["kubernetes:batch/v1:CronJob", "billing-statements"],
        ],
        check: (built) => {
            // The registry Job applies the document given as JSON; the migrations default to the package's own.
            expect(JSON.parse(propsOf(built, "kubernetes:core/v1:ConfigMap", "billing-registry").data["registry.json"])).toEqual(REGISTRY);
            const packaged = fs.readdirSync(path.join(ROOT, "billing/migrations")).filter((f) => f.endsWith(".sql")).sort();
            expect(Object.keys(propsOf(built, "kubernetes:core/v1:ConfigMap", "billing-migrations").data).sort()).toEqual(packaged);
        },
    },
    Observability: {
        inputs: {
            clusterName: "c1",
            clusterNameLiteral: "c1",
            kmsKeyArn: "arn:aws:kms:us-east-2:111122223333:key/abc",
            partition: "aws",
            kubernetesVersion: "1.34",
            pools: [SHARED_POOL],
            storageClassName: "gp3",
            addressing: ADDRESSING,
            tags: {},
            prometheusRetentionDays: 15,
            prometheusStorageGiB: 100,
            logRetentionDays: 30,
            runbookBaseUrl: "https://runbooks.example.com",
        },
        registers: [
            ["kubernetes:core/v1:Namespace", "obs-ns"],
            ["aws:eks/addon:Addon", "obs-cloudwatch"],
        ],
        check: (built) => expect(built.state.dashboards).toEqual(["Region GPU capacity", "GPU health"]),
    },
    CapacityQueues: {
        inputs: { pools: [{ capacity: SHARED_POOL }, { capacity: DEDICATED_POOL, tenant: "initech" }], shards: [{ name: "a", budget: { "shared-l40s": 4 } }], addressing: ADDRESSING },
        registers: [
            ["kubernetes:helm.sh/v3:Release", "queues-kueue"],
            ["kubernetes:kueue.x-k8s.io/v1beta1:ResourceFlavor", "queues-initech-l40s-flavor"],
            ["kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "queues-shared-l40s-internal"],
            ["kubernetes:kueue.x-k8s.io/v1beta1:Cohort", "queues-shard-a-shared-l40s"],
        ],
        check: (built) => {
            // A dedicated pool's tenant becomes its flavor's node taint; a shared pool's is its role's.
            const taints = (pool: string) => propsOf(built, "kubernetes:kueue.x-k8s.io/v1beta1:ResourceFlavor", `queues-${pool}-flavor`).spec.nodeTaints;
            expect(taints("initech-l40s")).toEqual(poolTaints("dedicated", "initech").map((t) => ({ key: t.key, value: t.value, effect: "NoSchedule" })));
            expect(taints("shared-l40s")).toEqual(poolTaints("shared").map((t) => ({ key: t.key, value: t.value, effect: "NoSchedule" })));
        },
    },
    TenantShard: {
        inputs: {
            shardName: "a",
            platformStack: "acme/compute-region/dev-platform",
            tenants: [{ name: "initech", state: "active", quota: { "shared-l40s": 4 }, spot: {}, members: [], egress: { internet: false, allowCidrs: [] }, limits: {} }],
        },
        stackOutputs: { "acme/compute-region/dev-platform": PLATFORM_OUTPUTS },
        registers: [
            ["pulumi:pulumi:StackReference", "shard-platform"],
            ["kubernetes:core/v1:Namespace", "shard-tenant-initech-ns"],
            // The platform's billing writes the shard's tenants' usage statements.
            ["kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "shard-tenant-initech-statement-writer"],
        ],
        check: (built) => {
            // The StackReference reads the stack the input names; the tenant joins the shard's cohort; the registry is the shard's.
            expect(propsOf(built, "pulumi:pulumi:StackReference", "shard-platform")).toMatchObject({ name: "acme/compute-region/dev-platform" });
            expect(built.state.tenantNamespaces).toEqual(["tenant-initech"]);
            expect(propsOf(built, "kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "shard-tenant-initech-shared-l40s-queue").spec.cohort).toBe(shardCohort("a", "shared-l40s"));
            expect(JSON.parse(propsOf(built, "kubernetes:core/v1:ConfigMap", "shard-registry").data["registry.json"])).toMatchObject({ scope: "shard:a", tenants: [{ name: "initech" }] });
        },
    },
};
const NAMES: Record<string, string> = {
    Network: "net",
    Cluster: "cl",
    GpuNodeGroup: "pool",
    Tenant: "t",
    ServingPlatform: "serving",
    ModelGateway: "gw",
    ThreatDetection: "td",
    InferenceService: "svc",
    BillingDatabase: "billing",
    Observability: "obs",
    CapacityQueues: "queues",
    TenantShard: "shard",
};

describe("every exported component constructs through the provider with schema-named plain inputs", () => {
    it("covers every exported component (the Region above, the rest here)", () => {
        expect(["Region", ...Object.keys(COMPONENT_INPUTS)].sort()).toEqual(EXPORTED);
    });

    for (const [component, { inputs, registers, stackOutputs, check }] of Object.entries(COMPONENT_INPUTS)) {
        it(`${component}: its inputs are the schema's, and it registers its resources`, async () => {
            const token = `compute-region:index:${component}`;
            expect(inputProblems(token, inputs)).toEqual([]);
            const built = await construct(token, NAMES[component], inputs, stackOutputs);
            expect(built.urn).toBe(`urn:pulumi:plugin::plugin-test::${token}::${NAMES[component]}`);
            const registered = built.resources.map((r) => [r.type, r.name]);
            for (const expected of registers) expect(registered, `${component} registers ${expected.join(" ")}`).toContainEqual(expected);
            expect(Object.keys(built.state).sort()).toEqual(Object.keys(schema.resources[token].properties).sort());
            check?.(built);
        });
    }

    it("a plain input that cannot be used is an error naming the component and the input", async () => {
        const service = { ...COMPONENT_INPUTS.InferenceService.inputs, instanceType: "m7i.xlarge" };
        await expect(construct("compute-region:index:InferenceService", "svc", service)).rejects.toThrow(/InferenceService svc: instanceType "m7i.xlarge" is not a GPU instance type/);
        const billing = { ...COMPONENT_INPUTS.BillingDatabase.inputs, registry: "{ not json" };
        await expect(construct("compute-region:index:BillingDatabase", "billing", billing)).rejects.toThrow(/BillingDatabase billing registry: 1 problem:\s+\(document\): is not JSON/);
        const queues = { ...COMPONENT_INPUTS.CapacityQueues.inputs, pools: [{ capacity: DEDICATED_POOL }] };
        await expect(construct("compute-region:index:CapacityQueues", "queues", queues)).rejects.toThrow(/CapacityQueues queues: pool initech-l40s is dedicated and needs its tenant/);
    });
});
