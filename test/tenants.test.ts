import { beforeAll, describe, expect, it } from "vitest";
import { evaluatePolicies } from "compute-region-policies/engine";
import { ipBlockReaches, isolationFromResources, K8S_TYPES, TYPES } from "compute-region-policies/model";
import { policies } from "compute-region-policies/rules";
import type { OfflinePlanResult } from "../offline/harness";
import { planProcess } from "./cli";
import { configProblems, devStackConfig, ofType, plan, writeStackFile } from "./helpers";

let dev: OfflinePlanResult;
beforeAll(async () => {
    dev = await plan();
});

const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const inNs = (ns: string, type: string) => ofType(dev.resources, type).filter((r) => r.props.metadata?.namespace === ns);
const namespace = (result: OfflinePlanResult, name: string) => ofType(result.resources, K8S_TYPES.namespace).find((n) => n.props.metadata.name === name);

describe("tenant namespaces", () => {
    it("exist for raw-capacity tenants only, labelled and under Pod Security restricted, and protected", () => {
        expect(namespace(dev, "tenant-acme")).toBeDefined();
        expect(namespace(dev, "tenant-globex")).toBeDefined();
        expect(namespace(dev, "tenant-initech")).toBeUndefined(); // hosted-model access only
        const acme = namespace(dev, "tenant-acme")!;
        expect(acme.props.metadata.labels).toMatchObject({
            "compute-region.io/tenant": "acme",
            "compute-region.io/namespace-kind": "tenant",
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
            "queue.compute-region.io/shared-l40s": "allowed",
            "queue.compute-region.io/acme-l40s": "allowed",
        });
        expect(acme.opts?.protect).toBe(true);
    });

    it("give each tenant a ClusterQueue per pool in the pool's cohort: reserved as nominal, spot as borrowing, nothing lent", () => {
        const queues = Object.fromEntries(ofType(dev.resources, K8S_TYPES.clusterQueue).filter((q) => q.props.metadata.labels["compute-region.io/queue-kind"] === "tenant").map((q) => [q.props.metadata.name, q.props.spec]));
        expect(Object.keys(queues).sort()).toEqual(["acme-acme-l40s", "acme-shared-l40s", "globex-shared-l40s"]);
        const gpu = (name: string) => queues[name].resourceGroups[0].flavors[0].resources[0];
        expect(gpu("acme-shared-l40s")).toEqual({ name: "nvidia.com/gpu", nominalQuota: 6, borrowingLimit: 0, lendingLimit: 0 });
        expect(gpu("acme-acme-l40s")).toEqual({ name: "nvidia.com/gpu", nominalQuota: 4, borrowingLimit: 0, lendingLimit: 0 });
        expect(gpu("globex-shared-l40s")).toEqual({ name: "nvidia.com/gpu", nominalQuota: 4, borrowingLimit: 4, lendingLimit: 0 });
        expect(queues["globex-shared-l40s"].cohort).toBe("pool-shared-l40s");
        expect(queues["globex-shared-l40s"].namespaceSelector).toEqual({ matchLabels: { "kubernetes.io/metadata.name": "tenant-globex" } });
        expect(inNs("tenant-globex", K8S_TYPES.localQueue).map((q) => [q.props.metadata.name, q.props.spec.clusterQueue])).toEqual([["shared-l40s", "globex-shared-l40s"]]);
    });

    it("cap the namespace with a ResourceQuota backstop, refuse platform PriorityClasses, and default container resources", () => {
        const quotas = Object.fromEntries(inNs("tenant-globex", "kubernetes:core/v1:ResourceQuota").map((q) => [q.props.metadata.name, q.props.spec]));
        expect(quotas["tenant-backstop"].hard).toMatchObject({ "requests.nvidia.com/gpu": "8", "services.nodeports": "0", "services.loadbalancers": "0", pods: "160" });
        expect(quotas["no-platform-priority"]).toEqual({ hard: { pods: "0" }, scopeSelector: { matchExpressions: [{ scopeName: "PriorityClass", operator: "In", values: ["internal-critical", "serving", "internal-batch"] }] } });
        expect(inNs("tenant-globex", "kubernetes:core/v1:LimitRange")).toHaveLength(1);
    });

    it("deny by default, allow the namespace, DNS, monitoring, and the internet only where config allows (never private ranges)", () => {
        const names = (ns: string) => inNs(ns, NP).map((p) => p.props.metadata.name).sort();
        // acme has a workload identity: its declared egress to the Pod Identity agent too; and every
        // tenant its declared route to the tenant metrics API (test/tenant-observability.test.ts).
        expect(names("tenant-acme")).toEqual(["allow-dns", "allow-internet-egress", "allow-monitoring-scrape", "allow-pod-identity-agent", "allow-same-namespace", "allow-tenant-metrics-api", "default-deny-all"]);
        const internet = inNs("tenant-acme", NP).find((p) => p.props.metadata.name === "allow-internet-egress")!;
        const { cidr, except } = internet.props.spec.egress[0].to[0].ipBlock;
        const reaches = (address: string) => ipBlockReaches(`${address}/32`, cidr, except);
        expect(["8.8.8.8", "203.0.113.7"].every(reaches)).toBe(true);
        // Private, shared and link-local space (instance metadata), the VPC's pods and the services: never.
        for (const address of ["10.1.2.3", "172.16.5.5", "192.168.1.1", "100.64.0.1", "169.254.169.254", "10.40.1.1", "172.20.0.10"]) expect(reaches(address), address).toBe(false);
        const globex = inNs("tenant-globex", NP).find((p) => p.props.metadata.name === "allow-internet-egress")!;
        expect(globex.props.spec.egress[0].to).toEqual([{ ipBlock: { cidr: "198.51.100.0/24" } }]);
    });

    it("map member roles to the tenant group with access entries and no access policy, bound to a namespaced Role", () => {
        const entries = ofType(dev.resources, TYPES.eksAccessEntry).filter((e) => e.props.kubernetesGroups?.some((g: string) => g.startsWith("tenant:")));
        expect(entries.map((e) => [e.props.principalArn, e.props.kubernetesGroups])).toEqual([
            ["arn:aws:iam::111122223333:role/AcmeEngineers", ["tenant:acme:members"]],
            ["arn:aws:iam::111122223333:role/GlobexResearch", ["tenant:globex:members"]],
        ]);
        const associations = ofType(dev.resources, TYPES.eksAccessPolicyAssociation);
        for (const a of associations) expect(entries.map((e) => e.urn)).not.toContain(a.dependencies?.find((d) => entries.some((e) => e.urn === d)));
        const binding = inNs("tenant-acme", "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").find((b) => b.props.metadata.name === "tenant-member")!;
        expect(binding.props.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "tenant-member" });
        expect(ofType(dev.resources, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").filter((b) => JSON.stringify(b.props.subjects).includes("tenant:"))).toEqual([]);
    });

    it("give the dedicated pool a security group open only to itself, attached to its nodes", () => {
        const sg = ofType(dev.resources, TYPES.securityGroup).find((g) => g.props.tags?.["compute-region:tenant"] === "acme" && g.props.tags?.["compute-region:pool"] === "acme-l40s")!;
        expect(sg.props.ingress).toEqual([{ protocol: "-1", fromPort: 0, toPort: 0, self: true, description: "pool members (EFA, NCCL)" }]);
        const lt = ofType(dev.resources, TYPES.launchTemplate).find((t) => t.name === "dev-acme-l40s-lt")!;
        expect(lt.dependencies).toContain(sg.urn);
    });

    it("bind every guardrail with Deny to the tenant namespaces", () => {
        const bindings = ofType(dev.resources, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding");
        expect(bindings.map((b) => b.props.spec.policyName).sort()).toEqual(["tenant-isolation-objects", "tenant-pod-placement", "tenant-pod-security", "tenant-service-types", "tenant-workload-queues"]);
        for (const b of bindings) expect(b.props.spec).toMatchObject({ validationActions: ["Deny"], matchResources: { namespaceSelector: { matchLabels: { "compute-region.io/namespace-kind": "tenant" } } } });
    });
});

describe("isolation proof on the dev plan", () => {
    it("finds no path between tenants, into internal namespaces or to instance metadata", () => {
        const evidence = isolationFromResources(dev.resources);
        expect(evidence.tenantsAnalysed).toBe(2);
        expect(evidence.pairsChecked).toBeGreaterThanOrEqual(8);
        expect(evidence.paths).toEqual([]);
    });
});

describe("isolation proof on shapes a preview can produce", () => {
    const withPolicy = (cidr: string) => [
        ...dev.resources,
        { urn: "urn:x::v6", type: K8S_TYPES.networkPolicy, name: "v6", props: { metadata: { name: "v6", namespace: "tenant-acme" }, spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr } }] }] } } },
    ];

    it("an IPv6 ipBlock reaches no pod (pods are IPv4), and the evidence says it opens the IPv6 internet", () => {
        const evidence = isolationFromResources(withPolicy("::/0"));
        expect(evidence.paths).toEqual([]);
        expect(evidence.ipv6Egress).toEqual(["tenant-acme/v6: ::/0"]);
        // The same rule over IPv4 opens paths (to the metadata address at least).
        expect(isolationFromResources(withPolicy("0.0.0.0/0")).paths.map((p) => `${p.from}->${p.to}`)).toContain("tenant-acme->169.254.169.254");
        expect(ipBlockReaches("10.40.0.0/16", "::/0")).toBe(false);
        expect(ipBlockReaches("10.40.0.0/16", "10.0.0.0/8", ["fd00::/8"])).toBe(true);
    });

    it("a VPC whose CIDR is absent or unknown counts every address as a pod's, and an ipBlock with no CIDR reaches nothing", () => {
        const noCidr = withPolicy("0.0.0.0/0").map((r) => (r.type === TYPES.vpc ? { ...r, props: { ...r.props, cidrBlock: undefined } } : r));
        expect(isolationFromResources(noCidr).paths.length).toBeGreaterThan(0);
        const noBlock = withPolicy("0.0.0.0/0").map((r) => (r.name === "v6" ? { ...r, props: { ...r.props, spec: { ...(r.props.spec as object), egress: [{ to: [{ ipBlock: {} }] }] } } } : r));
        expect(isolationFromResources(noBlock).paths).toEqual([]);
    });
});

describe("offboarding", () => {
    const withState = (tenant: string, state: string) => {
        const config = devStackConfig();
        config["compute-region:tenants"].find((t: { name: string }) => t.name === tenant).state = state;
        return config;
    };

    it("suspended: queues hold with zero quota, no new pods, capacity returns to the pool, namespace still protected", async () => {
        const p = await plan(withState("globex", "suspended"));
        const q = ofType(p.resources, K8S_TYPES.clusterQueue).find((x) => x.props.metadata.name === "globex-shared-l40s")!;
        expect(q.props.spec.stopPolicy).toBe("Hold");
        expect(q.props.spec.resourceGroups[0].flavors[0].resources[0]).toMatchObject({ nominalQuota: 0, borrowingLimit: 0 });
        const rq = ofType(p.resources, "kubernetes:core/v1:ResourceQuota").find((r) => r.props.metadata.namespace === "tenant-globex" && r.props.metadata.name === "tenant-backstop")!;
        expect(rq.props.spec.hard).toMatchObject({ pods: "0", "requests.nvidia.com/gpu": "0" });
        expect(namespace(p, "tenant-globex")!.opts?.protect).toBe(true);
        expect((p.outputs.capacity as { pool: string; sold: number }[]).find((c) => c.pool === "shared-l40s")!.sold).toBe(6);
        expect(ofType(p.resources, TYPES.eksAccessEntry).some((e) => e.props.principalArn.endsWith("GlobexResearch"))).toBe(true);
    });

    it("decommissioned: access, queues and RBAC removed; namespace kept unprotected, still isolated", async () => {
        const p = await plan(withState("globex", "decommissioned"));
        const ns = namespace(p, "tenant-globex")!;
        expect(ns.opts?.protect).toBe(false);
        expect(ns.props.metadata.annotations["compute-region.io/state"]).toBe("decommissioned");
        expect(ofType(p.resources, K8S_TYPES.clusterQueue).some((q) => q.props.metadata.name.startsWith("globex-"))).toBe(false);
        expect(ofType(p.resources, TYPES.eksAccessEntry).some((e) => e.props.principalArn.endsWith("GlobexResearch"))).toBe(false);
        expect(ofType(p.resources, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").some((b) => b.props.metadata.namespace === "tenant-globex")).toBe(false);
        expect(ofType(p.resources, NP).filter((n) => n.props.metadata.namespace === "tenant-globex").map((n) => n.props.metadata.name)).toContain("default-deny-all");
        const result = evaluatePolicies(p.resources, { policies });
        expect(result.violations).toEqual([]);
    });
});

describe("headroom end to end", () => {
    it("a tenant config that oversells a pool by one GPU fails the plan, naming the pool and the numbers", () => {
        const config = devStackConfig();
        config["compute-region:tenants"].find((t: { name: string }) => t.name === "acme").quota["shared-l40s"] = 9; // 9 + 4 = 13 > 12
        const file = writeStackFile(config, "Pulumi.oversold.yaml");
        // As a process: a mandatory violation is the command's exit status 1.
        const r = planProcess(["--stack", "oversold", "--config-file", file]);
        expect(r.status).toBe(1);
        expect(r.stdout).toContain("pool shared-l40s is oversold: tenants hold 13 reserved GPUs, but only 12 are sellable (16 guaranteed, headroom 25% keeps 4)");
    });
});

describe("tenant config errors", () => {
    const problems = configProblems;
    const tenants = (c: Record<string, any>) => c["compute-region:tenants"];
    it.each([
        ["a bad tenant name", (c: any) => (tenants(c)[2].name = "Acme_Corp"), 'Pulumi.dev.yaml: compute-region:tenants[2] (Acme_Corp).name: must be a DNS label (a-z, 0-9, -), got "Acme_Corp"'],
        ["quota on an internal pool", (c: any) => (tenants(c)[0].quota["internal-l40s"] = 1), "compute-region:tenants[0] (acme).quota.internal-l40s: pool internal-l40s is internal: it sells no reserved quota, got 1"],
        ["quota on another tenant's dedicated pool", (c: any) => (tenants(c)[1].quota["acme-l40s"] = 1), "compute-region:tenants[1] (globex).quota.acme-l40s: pool acme-l40s is dedicated to acme"],
        ["spot on a dedicated pool", (c: any) => (tenants(c)[0].spot = { "acme-l40s": 2 }), "spot quota borrows only from shared pools"],
        ["an unknown pool", (c: any) => (tenants(c)[0].quota["nope"] = 2), "compute-region:tenants[0] (acme).quota.nope: names no pool in compute-region:gpuPools"],
        ["a member that is an admin", (c: any) => tenants(c)[0].members.push("arn:aws:iam::111122223333:role/PlatformAdmin"), "compute-region:tenants[0] (acme).members[1]: is already an admin role"],
        ["a member of two tenants", (c: any) => tenants(c)[1].members.push("arn:aws:iam::111122223333:role/AcmeEngineers"), "is already a member of tenant acme"],
        ["egress to a private range", (c: any) => (tenants(c)[1].egress.allowCidrs = ["10.99.0.0/16"]), "compute-region:tenants[1] (globex).egress.allowCidrs[0]: must not overlap 10.0.0.0/8"],
        ["egress to instance metadata", (c: any) => (tenants(c)[1].egress.allowCidrs = ["169.254.169.254/32"]), "must not overlap 169.254.0.0/16"],
        ["a reserved name", (c: any) => (tenants(c)[2].name = "internal-ops"), 'must not start with "internal"'],
        ["a name that would make a pool's burst queue", (c: any) => (tenants(c)[2].name = "burst"), 'compute-region:tenants[2] (burst).name: must not start with "burst" (reserved for the platform\'s own queues)'],
        ["an unknown state", (c: any) => (tenants(c)[0].state = "paused"), "compute-region:tenants[0] (acme).state: must be one of"],
        ["a dedicated pool for an unknown tenant", (c: any) => (c["compute-region:gpuPools"][3].tenant = "hooli"), "compute-region:gpuPools[3] (acme-l40s).tenant: must name a tenant in compute-region:tenants"],
    ])("rejects %s", (_w, mutate, expected) => {
        const found = problems(mutate);
        expect(found.some((p) => p.includes(expected)), found.join("\n")).toBe(true);
    });
});
