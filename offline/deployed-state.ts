import { createHash } from "node:crypto";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { containsUnknown, isSecretValue, parseUrn, ResourceSnapshot, UNKNOWN } from "compute-region-policies/engine";
import { durationSeconds } from "compute-region-policies/model";
import { defaultProviderSnapshot } from "./diff";
import { checkedProviderInputs, checkedResourceInputs, PROVIDER_INTERNAL_KEY, providerPackage, writesDefaultsList } from "./provider-check";
import { manifestMagic } from "./state";
import { OfflinePlanOptions, OfflinePlanResult, runOfflinePlan } from "./harness";
import { replacementRule } from "./rules";

/**
 * A stack's state as if its plan had been deployed, in the format `pulumi stack export` writes:
 * for tests, the benchmark and walkthroughs where there is no cloud to deploy to. The program runs
 * as in a plan, but every resource answers with an id and the outputs only the cloud would know
 * (ARNs, endpoints, generated names, passwords), made up deterministically from its URN, so the
 * program computes known inputs everywhere; an output the program reads and this file does not
 * make up stays unknown and the build fails, naming it.
 *
 * The made-up values look like AWS's but identify nothing. Secrets are written encrypted
 * (`ciphertext`), as `pulumi stack export` writes them, with a ciphertext that decrypts nowhere.
 */

export interface DeployedStateOptions {
    region: string;
    accountId: string;
}

function hex(seed: string, length: number): string {
    return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

function uuid(seed: string): string {
    const h = hex(seed, 32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const secret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });

/** Id prefixes EC2 uses, by type. */
const EC2_IDS: Record<string, string> = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt",
    "aws:ec2/flowLog:FlowLog": "fl",
    "aws:ec2/placementGroup:PlacementGroup": "pg",
};

/**
 * Whether the provider generates the resource's `name` when the program sets none: types that take a
 * `namePrefix` beside `name` (Terraform's name/name_prefix pair, which Pulumi auto-names), as their
 * replacement rules list them.
 */
function autoNamed(type: string): boolean {
    return type.startsWith("aws:") && replacementRule(type)?.forceNew.includes("namePrefix") === true;
}

interface Deployed {
    id: string;
    /** Outputs beyond the inputs, in the engine's wire format. */
    computed: Record<string, unknown>;
    /** Inputs the provider's Check filled in (listed in `__defaults`). */
    defaults: Record<string, unknown>;
}

/** What the cloud would answer for one resource. `clusterVersion` is the EKS cluster's (node groups and add-ons start at it). */
export function deployedValues(r: Pick<ResourceSnapshot, "urn" | "type" | "name" | "props">, options: DeployedStateOptions, clusterVersion: string | undefined): Deployed {
    const { region, accountId } = options;
    const seed = r.urn;
    const props = r.props as Record<string, any>;
    const defaults: Record<string, unknown> = {};
    if (autoNamed(r.type) && props.name === undefined && props.namePrefix === undefined) defaults.name = `${r.name}-${hex(seed, 7)}`;
    const name = (props.name ?? defaults.name ?? r.name) as string;
    const service = r.type.split(":")[1]?.split("/")[0] ?? "";
    const ec2 = EC2_IDS[r.type];
    const arn = `arn:aws:${service}:${service === "iam" ? "" : region}:${accountId}:${r.type.split(":")[2]?.toLowerCase() ?? "resource"}/${name}`;
    const computed: Record<string, unknown> = r.type.startsWith("aws:") ? { arn } : {};
    let id = ec2 ? `${ec2}-${hex(seed, 17)}` : r.type.startsWith("aws:") ? name : `${r.name}-${hex(seed, 8)}`;
    switch (r.type) {
        case "aws:eks/cluster:Cluster": {
            const issuerId = hex(`${seed}/oidc`, 32).toUpperCase();
            Object.assign(computed, {
                arn: `arn:aws:eks:${region}:${accountId}:cluster/${name}`,
                endpoint: `https://${issuerId}.gr7.${region}.eks.amazonaws.com`,
                certificateAuthority: { data: Buffer.from(`certificate of ${name}`).toString("base64") },
                identities: [{ oidcs: [{ issuer: `https://oidc.eks.${region}.amazonaws.com/id/${issuerId}` }] }],
                vpcConfig: { ...(props.vpcConfig ?? {}), clusterSecurityGroupId: `sg-${hex(`${seed}/cluster-sg`, 17)}`, vpcId: `vpc-${hex(`${seed}/vpc`, 17)}` },
                status: "ACTIVE",
                platformVersion: "eks.1",
            });
            break;
        }
        case "aws:eks/nodeGroup:NodeGroup":
            // EKS starts a node group at the cluster's version and leaves it there until told otherwise.
            // Pulumi auto-names a node group (nodeGroupName) from the resource's name when the program sets none.
            Object.assign(computed, { version: props.version ?? clusterVersion, status: "ACTIVE", nodeGroupName: props.nodeGroupName ?? `${r.name}-${hex(seed, 7)}` });
            id = `${props.clusterName}:${computed.nodeGroupName}`;
            break;
        case "pulumi-nodejs:dynamic/compute-region:NodeGroupScaling":
            id = `${props.clusterName}:${props.nodeGroupName}`;
            break;
        case "aws:eks/addon:Addon":
            // kube-proxy follows the Kubernetes version; other add-ons' default versions are not made up.
            if (props.addonName === "kube-proxy" && clusterVersion) computed.addonVersion = props.addonVersion ?? `v${clusterVersion}.0-eksbuild.1`;
            id = `${props.clusterName}:${props.addonName}`;
            break;
        case "aws:kms/key:Key":
            id = uuid(seed);
            Object.assign(computed, { keyId: id, arn: `arn:aws:kms:${region}:${accountId}:key/${id}` });
            break;
        case "aws:ec2/launchTemplate:LaunchTemplate":
            Object.assign(computed, { latestVersion: 1, defaultVersion: 1 });
            break;
        case "aws:iam/role:Role":
            Object.assign(computed, { arn: `arn:aws:iam::${accountId}:role/${name}`, uniqueId: `AROA${hex(seed, 17).toUpperCase()}` });
            break;
        case "aws:fsx/lustreFileSystem:LustreFileSystem":
            // The file system's id, and the DNS and mount names a client mounts it by.
            id = `fs-${hex(seed, 17)}`;
            Object.assign(computed, { arn: `arn:aws:fsx:${region}:${accountId}:file-system/${id}`, dnsName: `${id}.fsx.${region}.amazonaws.com`, mountName: hex(`${seed}/mount`, 8) });
            break;
        case "aws:iam/policy:Policy":
            computed.arn = `arn:aws:iam::${accountId}:policy/${name}`;
            id = computed.arn as string;
            break;
        case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            computed.arn = `arn:aws:iam::${accountId}:oidc-provider/${String(props.url).replace(/^https:\/\//, "")}`;
            id = computed.arn as string;
            break;
        case "aws:secretsmanager/secret:Secret":
            computed.arn = `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${hex(seed, 6)}`;
            id = computed.arn as string;
            break;
        case "aws:rds/instance:Instance":
            Object.assign(computed, {
                address: `${name}.${hex(seed, 12)}.${region}.rds.amazonaws.com`,
                endpoint: `${name}.${hex(seed, 12)}.${region}.rds.amazonaws.com:5432`,
                port: 5432,
                resourceId: `db-${hex(seed, 26).toUpperCase()}`,
                masterUserSecrets: [{ secretArn: `arn:aws:secretsmanager:${region}:${accountId}:secret:rds!db-${uuid(seed)}-${hex(seed, 6)}`, kmsKeyId: props.masterUserSecretKmsKeyId, secretStatus: "active" }],
            });
            break;
        case "aws:sqs/queue:Queue":
            // A queue is known by its URL (the batch Jobs and their trigger read it).
            Object.assign(computed, { arn: `arn:aws:sqs:${region}:${accountId}:${name}`, url: `https://sqs.${region}.amazonaws.com/${accountId}/${name}` });
            id = computed.url as string;
            break;
        case "aws:lb/loadBalancer:LoadBalancer":
        case "aws:lb/targetGroup:TargetGroup": {
            const kind = r.type === "aws:lb/targetGroup:TargetGroup" ? "targetgroup" : `loadbalancer/${props.loadBalancerType === "network" ? "net" : "app"}`;
            computed.arn = `arn:aws:elasticloadbalancing:${region}:${accountId}:${kind}/${name}/${hex(seed, 16)}`;
            if (kind !== "targetgroup") computed.dnsName = `${name}-${hex(`${seed}/dns`, 16)}.elb.${region}.amazonaws.com`;
            id = computed.arn as string;
            break;
        }
        case "aws:ec2/vpcEndpointService:VpcEndpointService":
            // The service name tenants create endpoints for, and the TXT record that verifies its private DNS name.
            id = `vpce-svc-${hex(seed, 17)}`;
            Object.assign(computed, {
                arn: `arn:aws:ec2:${region}:${accountId}:vpc-endpoint-service/${id}`,
                serviceName: `com.amazonaws.vpce.${region}.${id}`,
                privateDnsNameConfigurations: props.privateDnsName ? [{ name: `_${hex(`${seed}/txt`, 20)}`, state: "pendingVerification", type: "TXT", value: `vpce:${hex(`${seed}/value`, 20)}` }] : [],
            });
            break;
        case "aws:ecr/repository:Repository":
            Object.assign(computed, { repositoryUrl: `${accountId}.dkr.ecr.${region}.amazonaws.com/${name}`, registryId: accountId });
            break;
        case "docker-build:index:Image": {
            // What a push returns: the manifest's digest, and a tag with it.
            const digest = `sha256:${hex(`${seed}/digest`, 64)}`;
            const tag = Array.isArray(props.tags) && typeof props.tags[0] === "string" ? props.tags[0] : name;
            Object.assign(computed, { digest, ref: `${tag}@${digest}`, contextHash: hex(`${seed}/context`, 64) });
            id = digest;
            break;
        }
        case "random:index/randomPassword:RandomPassword": {
            const length = Number(props.length ?? 16);
            computed.result = secret(hex(`${seed}/password`, 64).repeat(2).slice(0, length));
            computed.bcryptHash = secret(`$2a$10$${hex(`${seed}/bcrypt`, 53)}`);
            id = "none";
            break;
        }
        default:
            if (r.type.startsWith("kubernetes:")) id = [props.metadata?.namespace, props.metadata?.name ?? props.name].filter(Boolean).join("/") || id;
            if (r.type === "kubernetes:helm.sh/v3:Release" && props.name === undefined) defaults.name = `${r.name}-${hex(seed, 8)}`;
            if (r.type.startsWith("pulumi:providers:")) id = uuid(seed);
    }
    return { id, computed, defaults };
}

/** The EKS cluster's Kubernetes version among the resources, if there is one cluster. */
function clusterVersionOf(resources: readonly Pick<ResourceSnapshot, "type" | "props">[]): string | undefined {
    const version = resources.find((r) => r.type === "aws:eks/cluster:Cluster")?.props.version;
    return typeof version === "string" ? version : undefined;
}

/** Runs the program as if it had been deployed: every resource's cloud-side outputs known. */
export async function planDeployed(plan: Omit<OfflinePlanOptions, "onRegister">, options: DeployedStateOptions): Promise<OfflinePlanResult> {
    let clusterVersion: string | undefined;
    const providers = new Map<string, Record<string, unknown>>();
    const providerInputs = (urn: string | undefined) => {
        if (!urn) return undefined;
        if (!providers.has(urn)) {
            const synthesized = defaultProviderSnapshot(urn, plan.config.values);
            if (synthesized) providers.set(urn, checkedProviderInputs(synthesized.type, synthesized.props));
        }
        return providers.get(urn);
    };
    const result = await runOfflinePlan({
        ...plan,
        onRegister: (snapshot) => {
            if (snapshot.custom === false) return undefined;
            if (providerPackage(snapshot.type)) providers.set(snapshot.urn, checkedProviderInputs(snapshot.type, snapshot.props, snapshot.opts?.version));
            if (snapshot.type === "aws:eks/cluster:Cluster") clusterVersion = String(snapshot.props.version);
            const { id, computed, defaults } = deployedValues(snapshot, options, clusterVersion);
            // What the provider returns: the checked inputs (with what its Check added) and what it computed.
            return { id, outputs: { ...checkedResourceInputs(snapshot.type, { ...snapshot.props, ...defaults }, providerInputs(snapshot.opts?.provider)), ...computed } };
        },
    });
    const unknown = result.resources.filter((r) => containsUnknown(r.props)).map((r) => `${r.urn} ${unknownPaths(r.props).join(", ")}`);
    if (unknown.length > 0) throw new Error(`the deployed state leaves values unknown (add the outputs they come from to offline/deployed-state.ts):\n  ${unknown.slice(0, 10).join("\n  ")}`);
    return result;
}

function unknownPaths(value: unknown, path = ""): string[] {
    if (value === UNKNOWN) return [path || "(value)"];
    if (typeof value !== "object" || value === null) return [];
    return Object.entries(value).flatMap(([k, v]) => unknownPaths(v, Array.isArray(value) ? `${path}[${k}]` : path ? `${path}.${k}` : k));
}

/** A value as the checkpoint stores it: secrets encrypted (a made-up ciphertext, never the value). */
function toState(value: unknown, seed: string): unknown {
    if (Array.isArray(value)) return value.map((v, i) => toState(v, `${seed}/${i}`));
    if (typeof value === "object" && value !== null) {
        if (isSecretValue(value)) return { [specialSigKey]: specialSecretSig, ciphertext: `v1:${Buffer.from(hex(seed, 24)).toString("base64")}` };
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toState(v, `${seed}/${k}`)]));
    }
    return value;
}

/** Outputs the SDK marks secret whatever the inputs (additionalSecretOutputs of @pulumi/aws 7.48.0 and @pulumi/random 4.21.2). */
const SECRET_OUTPUTS: Record<string, string[]> = {
    "aws:rds/instance:Instance": ["password", "passwordWo"],
    "aws:secretsmanager/secretVersion:SecretVersion": ["secretBinary", "secretString", "secretStringWo"],
    "random:index/randomPassword:RandomPassword": ["bcryptHash", "result"],
};

export interface CheckpointOptions extends DeployedStateOptions {
    /** The stack config: the default providers' inputs. */
    config: Record<string, string>;
    /** Write format version 4 with these features (version 3 without). */
    features?: string[];
    /** When the stack was last updated (the manifest's time, each resource's created and modified); a fixed instant by default, so exports compare. */
    time?: string;
    /** Operations an interrupted update left pending (`pending_operations`, each an OperationV2). */
    pendingOperations?: { resource: Record<string, unknown>; type: "creating" | "updating" | "deleting" | "reading" | "importing" }[];
}

/** The engine version whose export this writes (the CLI that pairs with @pulumi/pulumi 3.248.0). */
export const EXPORT_ENGINE_VERSION = "v3.248.0";

/** Go marshals a whole-second UTC time.Time as RFC 3339 without fractions. */
const DEFAULT_TIME = "2026-01-01T00:00:00Z";

/**
 * A `pulumi stack export` document of a deployed plan, as the engine at EXPORT_ENGINE_VERSION writes
 * it (pulumi/pulumi v3.248.0 sdk/go/common/apitype/core.go DeploymentV3, ResourceV3 and ManifestV1,
 * in their field order; pkg/backend/snapshot.go): `{ version, features?, deployment: { manifest:
 * { time, magic, version }, secrets_providers, resources, pending_operations?, metadata } }`, the
 * magic being what `pulumi stack import` checks (ManifestV1.NewMagic), `metadata` always present
 * (a struct, which `omitempty` never drops). Each resource as the engine stores it: the inputs its
 * provider's Check returned (offline/provider-check.ts: providers' `version`, `__internal` and config
 * defaults; the AWS provider's `region` and `tagsAll`; the bridge's `__defaults` on Terraform SDKv2
 * resources), the outputs (a provider's are its inputs without `__internal`), secrets encrypted, the
 * provider reference, lifecycle options, `created` and `modified`. Source positions and
 * `propertyDependencies` are left out: no reader of this file uses them.
 */
export function checkpointFromPlan(plan: Pick<OfflinePlanResult, "resources" | "outputs" | "project" | "stack">, options: CheckpointOptions) {
    const clusterVersion = clusterVersionOf(plan.resources);
    const time = options.time ?? DEFAULT_TIME;
    const ids = new Map<string, string>();
    const providerInputs = new Map<string, Record<string, unknown>>();
    const out: Record<string, unknown>[] = [];
    const add = (r: ResourceSnapshot, read = false) => {
        const custom = r.custom !== false;
        const isProvider = providerPackage(r.type) !== undefined;
        const { id, computed, defaults } = custom ? deployedValues(r, options, clusterVersion) : { id: undefined, computed: {}, defaults: {} };
        let inputs: Record<string, unknown>;
        let outputs: Record<string, unknown>;
        if (isProvider) {
            inputs = checkedProviderInputs(r.type, r.props, r.opts?.version);
            providerInputs.set(r.urn, inputs);
            outputs = Object.fromEntries(Object.entries(inputs).filter(([k]) => k !== PROVIDER_INTERNAL_KEY));
        } else {
            const checked = custom && !read ? checkedResourceInputs(r.type, { ...r.props, ...defaults }, r.opts?.provider ? providerInputs.get(r.opts.provider) : undefined) : { ...r.props };
            inputs = writesDefaultsList(r.type) ? { ...checked, __defaults: Object.keys(defaults).sort() } : checked;
            outputs = custom ? { ...checked, ...computed, ...(r.type.startsWith("aws:") || r.type.startsWith("random:") ? { id } : {}) } : {};
        }
        if (r.type === "pulumi:pulumi:Stack") outputs = plan.outputs;
        for (const key of SECRET_OUTPUTS[r.type] ?? []) if (outputs[key] !== undefined && !isSecretValue(outputs[key])) outputs[key] = secret(outputs[key]);
        if (id !== undefined) ids.set(r.urn, id);
        const provider = r.opts?.provider;
        const timeouts = r.opts?.customTimeouts;
        out.push({
            urn: r.urn,
            custom,
            ...(id !== undefined ? { id } : {}),
            type: r.type,
            ...(Object.keys(inputs).length > 0 ? { inputs: toState(inputs, `${r.urn}/inputs`) } : {}),
            ...(Object.keys(outputs).length > 0 ? { outputs: toState(outputs, `${r.urn}/outputs`) } : {}),
            ...(r.parent ? { parent: r.parent } : {}),
            ...(r.opts?.protect ? { protect: true } : {}),
            ...(read ? { external: true } : {}),
            ...(r.dependencies && r.dependencies.length > 0 ? { dependencies: r.dependencies } : {}),
            ...(provider ? { provider: `${provider}::${ids.get(provider) ?? UNKNOWN}` } : {}),
            ...(SECRET_OUTPUTS[r.type] ? { additionalSecretOutputs: SECRET_OUTPUTS[r.type] } : {}),
            // resource.CustomTimeouts: seconds.
            ...(timeouts ? { customTimeouts: Object.fromEntries(Object.entries(timeouts).map(([k, v]) => [k, durationSeconds(v)])) } : {}),
            ...(r.opts?.retainOnDelete ? { retainOnDelete: true } : {}),
            created: time,
            modified: time,
            ...(r.opts?.ignoreChanges ? { ignoreChanges: r.opts.ignoreChanges } : {}),
            ...(r.opts?.replaceOnChanges ? { replaceOnChanges: r.opts.replaceOnChanges } : {}),
        });
    };
    for (const r of plan.resources) {
        const provider = r.opts?.provider;
        if (provider && !ids.has(provider)) {
            const synthesized = defaultProviderSnapshot(provider, options.config);
            if (synthesized) add(synthesized);
        }
        add(r, r.type === "pulumi:pulumi:StackReference");
    }
    const owner = parseUrn(out[0]?.urn as string) ?? { stack: plan.stack, project: plan.project };
    const features = options.features ?? [];
    return {
        version: features.length > 0 ? 4 : 3,
        ...(features.length > 0 ? { features } : {}),
        deployment: {
            manifest: { time, magic: manifestMagic(EXPORT_ENGINE_VERSION), version: EXPORT_ENGINE_VERSION },
            secrets_providers: { type: "service", state: { url: "https://api.pulumi.com", owner: "offline", project: owner.project, stack: owner.stack } },
            resources: out,
            ...(options.pendingOperations && options.pendingOperations.length > 0 ? { pending_operations: options.pendingOperations } : {}),
            metadata: {},
        },
    };
}
