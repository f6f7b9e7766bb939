import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluatePolicies, type ResourceSnapshot } from "compute-region-policies/engine";
import {
    boundaryProbes,
    clusterPicture,
    DATA_TYPES,
    denyingStatement,
    fromSnapshots,
    isolationFromResources,
    K8S_TYPES,
    NETWORK_TOPOLOGY,
    poolTopology,
    proveFunctionalPaths,
    rehearse,
    requiredPaths,
    tenantBoundaryDocument,
    TOPOLOGY_ANNOTATIONS,
    TYPES,
} from "compute-region-policies/model";
import { policies } from "compute-region-policies/rules";
import type { OfflinePlanResult } from "../offline/harness";
import { parseStackConfig } from "../stacks/config";
import { configProblems, devStackConfig, engineValues, ofType, one, plan, ROOT } from "./helpers";

let dev: OfflinePlanResult;
beforeAll(async () => {
    dev = await plan();
});

/** The violations of one policy, each message without the policy's description (its first line). */
const violationsOf = (resources: readonly ResourceSnapshot[], policy: string) =>
    evaluatePolicies(resources, { policies })
        .violations.filter((v) => v.policy === policy)
        .map((v) => v.message.split("\n").pop()!);
/** The dev plan with one resource's props (and so what the preview returns of it) replaced. */
const changed = (name: string, change: (props: Record<string, any>) => Record<string, any>) =>
    dev.resources.map((r) => (r.name === name ? { ...r, props: change(structuredClone(r.props) as Record<string, any>), ...(r.outputs ? { outputs: change(structuredClone(r.outputs) as Record<string, any>) } : {}) } : r));

describe("config errors name each new key", () => {
    it("file system capacity, throughput, S3 path and zone", () => {
        const problems = configProblems((c) => {
            const acme = c["compute-region:tenants"][0];
            acme.fileSystem = { storageGiB: 1000, throughput: 300, availabilityZone: "us-west-2a", s3: { path: "s3://Bad_Bucket" } };
        });
        expect(problems).toEqual(
            expect.arrayContaining([
                expect.stringContaining("compute-region:tenants[0] (acme).fileSystem.storageGiB: must be 1200 GiB, 2400 GiB or a multiple of 2400 GiB"),
                expect.stringContaining("compute-region:tenants[0] (acme).fileSystem.throughput: must be one of 125, 250, 500, 1000"),
                expect.stringContaining("compute-region:tenants[0] (acme).fileSystem.s3.path: must be an S3 prefix"),
            ]),
        );
        const zone = configProblems((c) => (c["compute-region:tenants"][0].fileSystem.availabilityZone = "us-west-2a"));
        expect(zone).toEqual([expect.stringContaining("compute-region:tenants[0] (acme).fileSystem.availabilityZone: must be one of the region's availabilityZones")]);
    });

    it("a file system or workload identity needs GPU capacity", () => {
        const problems = configProblems((c) => {
            const initech = c["compute-region:tenants"][2];
            initech.fileSystem = { storageGiB: 1200 };
            initech.workloadIdentity = { targetRoleArn: "arn:aws:iam::444455556666:role/x" };
        });
        expect(problems).toEqual([
            expect.stringContaining("compute-region:tenants[2] (initech).fileSystem: needs GPU capacity"),
            expect.stringContaining("compute-region:tenants[2] (initech).workloadIdentity: needs GPU capacity"),
        ]);
    });

    it("a workload identity is a role in the tenant's own account or a policy, exactly one", () => {
        expect(configProblems((c) => (c["compute-region:tenants"][0].workloadIdentity = {}))).toEqual([expect.stringContaining("compute-region:tenants[0] (acme).workloadIdentity: must set exactly one of targetRoleArn")]);
        expect(configProblems((c) => (c["compute-region:tenants"][0].workloadIdentity.targetRoleArn = "arn:aws:iam::111122223333:role/PlatformAdmin"))).toEqual([
            expect.stringContaining("compute-region:tenants[0] (acme).workloadIdentity.targetRoleArn: must be a role in the tenant's own account, not in the platform's account 111122223333"),
        ]);
        expect(configProblems((c) => (c["compute-region:tenants"][1].workloadIdentity.policy = { Version: "2008-10-17", Statement: [] }))).toEqual([
            expect.stringContaining('compute-region:tenants[1] (globex).workloadIdentity.policy.Version: must be "2012-10-17"'),
            expect.stringContaining("compute-region:tenants[1] (globex).workloadIdentity.policy.Statement: must list at least one statement"),
        ]);
    });
});

describe("a tenant's shared file system", () => {
    it("is FSx for Lustre PERSISTENT_2 with the customer-managed key, in one private subnet, protected while the tenant is active", () => {
        const fs = one(dev.resources, DATA_TYPES.lustreFileSystem);
        expect(fs.props).toMatchObject({ deploymentType: "PERSISTENT_2", storageCapacity: 1200, perUnitStorageThroughput: 250, fileSystemTypeVersion: "2.15", skipFinalBackup: false, tags: { "compute-region:tenant": "acme" } });
        expect(typeof fs.props.subnetIds).toBe("string");
        expect(fs.opts?.protect).toBe(true);
        const key = one(dev.resources, TYPES.kmsKey, "dev-tenant-fsx");
        expect(key.props.enableKeyRotation).toBe(true);
        expect(key.opts?.protect).toBe(true);
        expect(fs.dependencies).toContain(key.urn);
    });

    it("admits Lustre only from itself and the tenant's nodes' client groups", () => {
        const group = ofType(dev.resources, TYPES.securityGroup).find((g) => g.name === "dev-tenant-acme-fsx-sg")!;
        const ports = group.props.ingress.map((r: any) => `${r.fromPort}-${r.toPort}`);
        expect([...new Set(ports)]).toEqual(["988-988", "1018-1023"]);
        expect(group.props.ingress.every((r: any) => r.self === true || (Array.isArray(r.securityGroups) && !r.cidrBlocks))).toBe(true);
        // acme runs on the shared pool and its dedicated pool: two client groups, and only those.
        const clients = ofType(dev.resources, TYPES.securityGroup).filter((g) => g.props.tags?.["compute-region:purpose"] === "lustre-clients");
        expect(clients.map((c) => c.name).sort()).toEqual(["dev-fsx-clients", "dev-fsx-clients-acme"]);
        for (const c of clients) expect(group.dependencies).toContain(c.urn);
        const launchTemplates = ofType(dev.resources, TYPES.launchTemplate).filter((t) => (t.dependencies ?? []).some((d) => clients.some((c) => c.urn === d)));
        expect(launchTemplates.map((t) => t.name).sort()).toEqual(["dev-acme-l40s-lt", "dev-shared-l40s-lt"]);
    });

    it("links the tenant's S3 prefix at /s3 and never deletes data when the link goes", () => {
        const dra = one(dev.resources, DATA_TYPES.dataRepositoryAssociation);
        expect(dra.props).toMatchObject({ fileSystemPath: "/s3", dataRepositoryPath: "s3://acme-training-data/datasets/", deleteDataInFilesystem: false });
        expect(dra.props.s3.autoImportPolicy.events).toEqual(["NEW", "CHANGED", "DELETED"]);
    });

    it("is a static volume of the FSx CSI driver pre-bound to the claim in the tenant's namespace, whose quota has room for it", () => {
        const pv = one(dev.resources, K8S_TYPES.persistentVolume);
        expect(pv.props.spec).toMatchObject({ persistentVolumeReclaimPolicy: "Retain", storageClassName: "", accessModes: ["ReadWriteMany"], csi: { driver: "fsx.csi.aws.com" }, claimRef: { namespace: "tenant-acme", name: "shared-fs" } });
        const pvc = one(dev.resources, K8S_TYPES.persistentVolumeClaim);
        expect(pvc.props).toMatchObject({ metadata: { namespace: "tenant-acme", name: "shared-fs" }, spec: { volumeName: "tenant-acme-fsx", storageClassName: "" } });
        const quota = ofType(dev.resources, "kubernetes:core/v1:ResourceQuota").find((q) => q.props.metadata.namespace === "tenant-acme" && q.props.metadata.name === "tenant-backstop")!;
        expect(quota.props.spec.hard["requests.storage"]).toBe(`${10 * 1000 + 1200}Gi`);
    });

    it("is mounted by the CSI chart's node plugin alone (no controller), whose Lustre paths to the file servers the plan's policies open", () => {
        const release = ofType(dev.resources, TYPES.helmRelease).find((r) => r.props.chart === "aws-fsx-csi-driver")!;
        expect(release.props).toMatchObject({ version: "1.17.0", namespace: "kube-system", values: { controller: { replicaCount: 0 }, node: { updateStrategy: { type: "OnDelete" } } } });
        const picture = clusterPicture(fromSnapshots(dev.resources));
        const lustre = requiredPaths(picture).filter((p) => p.from.name === "release aws-fsx-csi-driver: node" && p.to.name === "FSx for Lustre file servers");
        expect(lustre.map((p) => p.port)).toEqual([988, 1018, 1019, 1020, 1021, 1022, 1023]);
        expect(proveFunctionalPaths(picture).cut).toEqual([]);
        // Without the node plugin's Lustre egress, the mounts would hang: the proof names the cut path.
        const cutPlan = changed("dev-fsx-csi-netpol-aws-fsx-csi-driver-node", (p) => ({ ...p, spec: { ...p.spec, egress: p.spec.egress.filter((r: any) => !r.ports.some((port: any) => port.port === 988)) } }));
        const cut = proveFunctionalPaths(clusterPicture(fromSnapshots(cutPlan))).cut.map((c) => c.path);
        expect(cut).toContain("release aws-fsx-csi-driver: node -> FSx for Lustre file servers TCP/988");
    });

    it("gets its node plugin's NetworkPolicy before the release, or the rehearsal finds the plugin denied everything", () => {
        expect(rehearse(fromSnapshots(dev.resources)).findings).toEqual([]);
        const early = dev.resources.map((r) => (r.type === TYPES.helmRelease && r.props.chart === "aws-fsx-csi-driver" ? { ...r, dependencies: (r.dependencies ?? []).filter((d) => !d.includes("NetworkPolicy")) } : r));
        const findings = rehearse(fromSnapshots(early)).findings.filter((f) => f.check === "network");
        expect(findings.map((f) => f.message)).toEqual([expect.stringContaining("its pods (release aws-fsx-csi-driver: node) start before kube-system/aws-fsx-csi-driver-node exist")]);
    });
});

describe("tenant workload identities", () => {
    it("are roles under the tenant's boundary, trusted by Pod Identity for the tenant's service account only, chained to the tenant's own role", () => {
        const role = ofType(dev.resources, TYPES.iamRole).find((r) => r.name === "dev-tenant-acme-identity-role")!;
        const trust = JSON.parse(role.props.assumeRolePolicy);
        expect(trust.Statement[0].Condition.StringEquals).toEqual({ "aws:RequestTag/eks-cluster-name": "gpu-dev-use2", "aws:RequestTag/kubernetes-namespace": "tenant-acme", "aws:RequestTag/kubernetes-service-account": "workload" });
        const boundary = ofType(dev.resources, TYPES.iamPolicy).find((p) => p.name === "dev-tenant-acme-identity-boundary")!;
        expect(role.dependencies).toContain(boundary.urn);
        const association = ofType(dev.resources, TYPES.eksPodIdentityAssociation).find((a) => a.name === "dev-tenant-acme-identity-association")!;
        expect(association.props).toMatchObject({ namespace: "tenant-acme", serviceAccount: "workload", targetRoleArn: "arn:aws:iam::444455556666:role/compute-region-workloads" });
        const policy = ofType(dev.resources, TYPES.iamRolePolicy).find((p) => p.name === "dev-tenant-acme-identity-policy")!;
        expect(JSON.parse(policy.props.policy).Statement).toEqual([{ Sid: "ChainToTheTenantsRole", Effect: "Allow", Action: ["sts:AssumeRole", "sts:TagSession"], Resource: "arn:aws:iam::444455556666:role/compute-region-workloads" }]);
    });

    it("open the tenant's egress to the Pod Identity agent alone, which the proof declares and holds to its port", () => {
        const agent = ofType(dev.resources, K8S_TYPES.networkPolicy).find((p) => p.props.metadata.namespace === "tenant-acme" && p.props.metadata.name === "allow-pod-identity-agent")!;
        expect(agent.props.spec.egress).toEqual([{ to: [{ ipBlock: { cidr: "169.254.170.23/32" } }], ports: [{ protocol: "TCP", port: 80 }] }]);
        const evidence = isolationFromResources(dev.resources);
        expect(evidence.sides).toEqual([]);
        expect(evidence.declaredOut.map((d) => `${d.from} -> ${d.to} ${d.ports}`)).toEqual(["tenant-acme -> 169.254.170.23 TCP/80", "tenant-globex -> 169.254.170.23 TCP/80"]);
        const wider = changed(agent.name, (p) => ({ ...p, spec: { ...p.spec, egress: [{ to: [{ ipBlock: { cidr: "169.254.170.23/32" } }], ports: [{ protocol: "TCP", port: 443 }] }, { to: [{ ipBlock: { cidr: "169.254.169.254/32" } }] }] } }));
        const sides = isolationFromResources(wider).sides.map((s) => s.message);
        expect(sides).toContain("tenant-acme/allow-pod-identity-agent egress[0] reaches 169.254.170.23/32 on TCP/443, beyond its declared TCP/80");
        expect(sides.some((s) => s.startsWith("tenant-acme/allow-pod-identity-agent egress[1] reaches 169.254.0.0/16"))).toBe(true);
    });

    it("are denied, by their boundary, every request the policy probes, and a boundary without its ARN denials is not", () => {
        const doc = tenantBoundaryDocument({ tenant: "acme", accountId: "111122223333", partition: "aws" });
        const probes = boundaryProbes("acme", "111122223333", "aws", "us-east-2");
        expect(probes.filter((p) => !denyingStatement(doc, p.request))).toEqual([]);
        // Its own file system, in this account, is not denied by the tag statement; another account's resources are untouched.
        expect(denyingStatement(doc, { action: "fsx:CreateDataRepositoryTask", resource: "arn:aws:fsx:us-east-2:111122223333:file-system/fs-1", context: { "aws:ResourceAccount": "111122223333", "aws:ResourceTag/compute-region:tenant": "acme" } })).toBeUndefined();
        expect(denyingStatement(doc, { action: "s3:GetObject", resource: "arn:aws:s3:::acme-training-data/x", context: { "aws:ResourceAccount": "444455556666" } })).toBeUndefined();
        const tagOnly = { ...doc, Statement: (doc.Statement as unknown[]).slice(0, 2) };
        expect(probes.filter((p) => !denyingStatement(tagOnly, p.request)).map((p) => p.request.action)).toEqual(["secretsmanager:GetSecretValue", "rds-db:connect", "rds:CreateDBSnapshot", "kms:Decrypt", "sts:AssumeRole"]);
    });
});

describe("the policies on the dev plan", () => {
    it("pass as planned", () => {
        for (const policy of ["tenant-volumes-bound", "tenant-pod-identity-confined", "tenant-roles-bounded", "tenant-namespaces-protected"]) expect(violationsOf(dev.resources, policy)).toEqual([]);
    });

    it("catch a volume bound to another namespace", () => {
        const moved = changed("dev-tenant-acme-fsx-pv", (p) => ({ ...p, spec: { ...p.spec, claimRef: { ...p.spec.claimRef, namespace: "tenant-globex" } } }));
        expect(violationsOf(moved, "tenant-volumes-bound")).toEqual(["volume tenant-acme-fsx of tenant acme is bound to a claim in namespace tenant-globex, not in tenant-acme."]);
    });

    it("catch an association to another namespace, and one to a platform role", () => {
        const moved = changed("dev-tenant-acme-identity-association", (p) => ({ ...p, namespace: "tenant-globex" }));
        expect(violationsOf(moved, "tenant-pod-identity-confined")).toEqual([expect.stringContaining("gives namespace tenant-globex tenant acme's role dev-tenant-acme-identity-role")]);
        const ebsRole = one(dev.resources, TYPES.iamRole, "dev-cluster-ebs-csi");
        const platform = dev.resources.map((r) => (r.name === "dev-tenant-acme-identity-association" ? { ...r, dependencies: [...(r.dependencies ?? []).filter((d) => !d.includes("identity-role")), ebsRole.urn] } : r));
        expect(violationsOf(platform, "tenant-pod-identity-confined")).toEqual([expect.stringContaining("gives namespace tenant-acme the platform role dev-cluster-ebs-csi")]);
    });

    it("catch a tenant role without the boundary", () => {
        const unbounded = changed("dev-tenant-globex-identity-role", (p) => ({ ...p, permissionsBoundary: undefined })).map((r) => (r.name === "dev-tenant-globex-identity-role" ? { ...r, dependencies: (r.dependencies ?? []).filter((d) => !d.includes("boundary")) } : r));
        expect(violationsOf(unbounded, "tenant-roles-bounded")).toEqual([expect.stringContaining("role dev-tenant-globex-identity-role of tenant globex has no permissions boundary")]);
    });

    it("catch an unprotected file system of an active tenant", () => {
        const unprotected = dev.resources.map((r) => (r.type === DATA_TYPES.lustreFileSystem ? { ...r, opts: { ...r.opts, protect: false } } : r));
        expect(violationsOf(unprotected, "tenant-namespaces-protected")).toEqual(["file system dev-tenant-acme-fsx-fs of active tenant acme is not protected."]);
    });
});

describe("topology-aware placement", () => {
    it("places shared and dedicated EFA pools by EC2's network layers, never serving or internal pools nor types without a topology", () => {
        expect(poolTopology("shared", "p5.48xlarge")).toBe(NETWORK_TOPOLOGY.name);
        expect(poolTopology("dedicated", "g6e.12xlarge")).toBe(NETWORK_TOPOLOGY.name);
        expect(poolTopology("serving", "p5.48xlarge")).toBeUndefined();
        expect(poolTopology("internal", "p5.48xlarge")).toBeUndefined();
        expect(poolTopology("shared", "g5.48xlarge")).toBeUndefined();
        const topology = one(dev.resources, K8S_TYPES.topology);
        expect(topology.props.spec.levels.map((l: any) => l.nodeLabel)).toEqual(["topology.k8s.aws/network-node-layer-1", "topology.k8s.aws/network-node-layer-2", "topology.k8s.aws/network-node-layer-3", "kubernetes.io/hostname"]);
    });

    it("gives a multi-node job a flavor that carries the topology at the level it asks for, with the pool's taints tolerated", () => {
        // A tenant's two-node JobSet on its shared-pool queue, asking for one network block.
        const job = { namespace: "tenant-acme", queue: "shared-l40s", annotations: { [TOPOLOGY_ANNOTATIONS.required]: "topology.k8s.aws/network-node-layer-3" }, nodes: 2 };
        const local = ofType(dev.resources, K8S_TYPES.localQueue).find((q) => q.props.metadata.namespace === job.namespace && q.props.metadata.name === job.queue)!;
        const cq = ofType(dev.resources, K8S_TYPES.clusterQueue).find((q) => q.props.metadata.name === local.props.spec.clusterQueue)!;
        const flavors = cq.props.spec.resourceGroups.flatMap((g: any) => g.flavors.map((f: any) => f.name));
        for (const name of flavors) {
            const flavor = ofType(dev.resources, K8S_TYPES.resourceFlavor).find((f) => f.props.metadata.name === name)!;
            expect(flavor.props.spec.topologyName).toBe(NETWORK_TOPOLOGY.name);
            const topology = ofType(dev.resources, K8S_TYPES.topology).find((t) => t.props.metadata.name === flavor.props.spec.topologyName)!;
            const levels = topology.props.spec.levels.map((l: any) => l.nodeLabel);
            expect(levels).toContain(job.annotations[TOPOLOGY_ANNOTATIONS.required]);
            expect(levels[levels.length - 1]).toBe("kubernetes.io/hostname");
            expect(flavor.props.spec.tolerations).toEqual(flavor.props.spec.nodeTaints.map((t: any) => ({ ...t, operator: "Equal" })));
            expect(flavor.dependencies).toContain(topology.urn);
        }
        expect(job.nodes).toBeGreaterThan(1);
        const serving = ofType(dev.resources, K8S_TYPES.resourceFlavor).find((f) => f.props.metadata.name === "serving-l40s")!;
        expect(serving.props.spec.topologyName).toBeUndefined();
    });
});

describe("offboarding a tenant with a file system and a workload identity", () => {
    const withState = (state: string) => {
        const config = devStackConfig();
        config["compute-region:tenants"][0].state = state;
        return plan(config);
    };

    it("suspended: the file system stays mounted and protected, the identity stays", async () => {
        const suspended = await withState("suspended");
        expect(one(suspended.resources, DATA_TYPES.lustreFileSystem).opts?.protect).toBe(true);
        expect(ofType(suspended.resources, K8S_TYPES.persistentVolumeClaim)).toHaveLength(1);
        expect(ofType(suspended.resources, TYPES.eksPodIdentityAssociation).some((a) => a.props.namespace === "tenant-acme")).toBe(true);
    });

    it("decommissioned: the data stays but loses its protection, and the identity and its egress are gone", async () => {
        const gone = await withState("decommissioned");
        expect(one(gone.resources, DATA_TYPES.lustreFileSystem).opts?.protect).toBe(false);
        expect(ofType(gone.resources, K8S_TYPES.persistentVolume)).toHaveLength(1);
        expect(ofType(gone.resources, TYPES.eksPodIdentityAssociation).some((a) => a.props.namespace === "tenant-acme")).toBe(false);
        expect(ofType(gone.resources, K8S_TYPES.networkPolicy).some((p) => p.props.metadata.namespace === "tenant-acme" && p.props.metadata.name === "allow-pod-identity-agent")).toBe(false);
        // The key its final backup is encrypted with is never deleted with a tenant.
        expect(one(gone.resources, TYPES.kmsKey, "dev-tenant-fsx").opts?.protect).toBe(true);
        expect(violationsOf(gone.resources, "tenant-namespaces-protected")).toEqual([]);
    });
});

describe("file systems are opt-in", () => {
    it("a region without one has no file-system resources, no CSI driver and no client groups", async () => {
        const config = devStackConfig();
        delete config["compute-region:tenants"][0].fileSystem;
        const without = await plan(config);
        expect(ofType(without.resources, DATA_TYPES.lustreFileSystem)).toEqual([]);
        expect(ofType(without.resources, TYPES.helmRelease).some((r) => r.props.chart === "aws-fsx-csi-driver")).toBe(false);
        expect(ofType(without.resources, TYPES.securityGroup).some((g) => g.props.tags?.["compute-region:purpose"] === "lustre-clients")).toBe(false);
        expect(ofType(without.resources, TYPES.kmsKey).some((k) => k.name === "dev-tenant-fsx")).toBe(false);
    });

    it("and not yet in shard stacks, where the config says so by key", () => {
        const raw = parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.dev-shard-a.yaml"), "utf8")).config;
        raw["compute-region:tenants"][0].fileSystem = { storageGiB: 1200 };
        expect(() => parseStackConfig(engineValues(raw), "dev-shard-a")).toThrow(/compute-region:tenants\[0\] \(acme\)\.fileSystem: is not available in a shard stack yet/);
    });
});
