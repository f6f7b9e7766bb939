import { run } from "@bufbuild/cel";
import { describe, expect, it } from "vitest";
import { ADMISSION_POLICIES, AdmissionPolicySpec, WORKLOAD_CONTROLLERS } from "../components/admission-policies";

/**
 * The tenant guardrails' CEL, evaluated by a CEL library (@bufbuild/cel, integers as bigint) on
 * objects that must be admitted and objects that must be denied.
 */
function toCel(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(toCel);
    if (value !== null && typeof value === "object") return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
    if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
    return value;
}

interface Request {
    operation?: "CREATE" | "UPDATE" | "DELETE";
    username?: string;
}

const tenantNamespace = {
    metadata: {
        name: "tenant-acme",
        labels: { "kubernetes.io/metadata.name": "tenant-acme", "compute-region.io/tenant": "acme", "compute-region.io/namespace-kind": "tenant", "queue.compute-region.io/shared-l40s": "allowed", "queue.compute-region.io/acme-l40s": "allowed" },
    },
};

/** What the API server would answer: admitted, or denied with the failing validations' messages. */
function admit(policyName: string, object: unknown, request: Request = {}): { admitted: boolean; messages: string[] } {
    const policy = ADMISSION_POLICIES.find((p) => p.name === policyName) as AdmissionPolicySpec;
    // The API server sets the request's kind (group, version, kind) from the resource it serves.
    const { apiVersion, kind } = object as { apiVersion?: string; kind?: string };
    const [group, version] = apiVersion?.includes("/") ? apiVersion.split("/") : ["", apiVersion ?? "v1"];
    const req = toCel({
        operation: request.operation ?? "CREATE",
        kind: { group, version, kind: kind ?? "" },
        userInfo: { username: request.username ?? "arn:aws:sts::111122223333:assumed-role/AcmeEngineers/alice", groups: ["tenant:acme:members"] },
    });
    const bindings: Record<string, unknown> = { object: toCel(object), oldObject: null, namespaceObject: toCel(tenantNamespace), request: req };
    const variables = new Map<string, unknown>();
    for (const v of policy.variables ?? []) variables.set(v.name, run(v.expression, { ...bindings, variables } as never));
    bindings.variables = variables;
    for (const c of policy.matchConditions) {
        if (run(c.expression, bindings as never) !== true) return { admitted: true, messages: [] }; // not in scope of the policy
    }
    const messages = policy.validations.filter((v) => run(v.expression, bindings as never) !== true).map((v) => v.message);
    return { admitted: messages.length === 0, messages };
}

/**
 * Whether a policy's resourceRules match a request, as the API server matches them: a subresource
 * request (`pods/ephemeralcontainers`) matches only a rule naming it or a wildcard subresource, never plain `pods`.
 */
function matches(policyName: string, request: { group: string; resource: string; operation: string }): boolean {
    const policy = ADMISSION_POLICIES.find((p) => p.name === policyName) as AdmissionPolicySpec;
    const [resource, sub] = request.resource.split("/");
    return policy.resourceRules.some(
        (r) =>
            (r.apiGroups.includes("*") || r.apiGroups.includes(request.group)) &&
            (r.operations.includes("*") || r.operations.includes(request.operation)) &&
            r.resources.some((x) => x === "*/*" || x === request.resource || (sub === undefined && x === "*") || (sub !== undefined && x === `${resource}/*`)),
    );
}

const pod = (spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "tenant-acme", labels: { "kueue.x-k8s.io/queue-name": "shared-l40s" }, ...metadata },
    spec: { containers: [{ name: "main", image: "nvcr.io/nvidia/pytorch:24.05-py3", resources: { limits: { "nvidia.com/gpu": 1 } } }], ...spec },
});
const container = (extra: Record<string, unknown>) => ({ containers: [{ name: "main", image: "x:1", ...extra }] });

describe("tenant-pod-security", () => {
    it("admits an ordinary GPU pod", () => expect(admit("tenant-pod-security", pod())).toEqual({ admitted: true, messages: [] }));
    it("admits explicit safe values (hostNetwork false, hostPort 0)", () => expect(admit("tenant-pod-security", pod({ hostNetwork: false, ...container({ ports: [{ containerPort: 8080, hostPort: 0 }] }) })).admitted).toBe(true));
    it.each([
        ["host network", { hostNetwork: true }, "tenant pods may not use the host network"],
        ["host PID", { hostPID: true }, "tenant pods may not share the host PID namespace"],
        ["host IPC", { hostIPC: true }, "tenant pods may not share the host IPC namespace"],
        ["a hostPath volume", { volumes: [{ name: "root", hostPath: { path: "/" } }] }, "tenant pods may not mount host paths"],
        ["a host port", container({ ports: [{ containerPort: 80, hostPort: 80 }] }), "tenant pods may not use host ports"],
        ["a privileged container", container({ securityContext: { privileged: true } }), "tenant containers may not be privileged"],
        ["a privileged init container", { initContainers: [{ name: "init", image: "x:1", securityContext: { privileged: true } }] }, "tenant containers may not be privileged"],
        ["added capabilities", container({ securityContext: { capabilities: { add: ["NET_ADMIN"] } } }), "tenant containers may not add capabilities"],
        ["spec.nodeName", { nodeName: "ip-10-40-1-1.ec2.internal" }, "tenant pods may not set spec.nodeName"],
    ])("denies %s", (_what, spec, message) => {
        const result = admit("tenant-pod-security", pod(spec));
        expect(result.admitted).toBe(false);
        expect(result.messages.join("\n")).toContain(message);
    });
    it("lets the scheduler's later updates of a bound pod through (nodeName is checked on CREATE only)", () => {
        expect(admit("tenant-pod-security", pod({ nodeName: "n1" }), { operation: "UPDATE" }).admitted).toBe(true);
    });
    it("exempts only the deployer", () => {
        expect(admit("tenant-pod-security", pod({ hostNetwork: true }), { username: "compute-region:deployer" }).admitted).toBe(true);
        expect(admit("tenant-pod-security", pod({ hostNetwork: true }), { username: "system:serviceaccount:kube-system:replicaset-controller" }).admitted).toBe(false);
    });
});

describe("ephemeral containers (kubectl debug)", () => {
    const debug = { group: "", resource: "pods/ephemeralcontainers", operation: "UPDATE" };
    it("are matched by the pod rules, through their own subresource", () => {
        expect(matches("tenant-pod-security", debug)).toBe(true);
        expect(matches("tenant-pod-placement", debug)).toBe(true);
        // ...but not by the queue check, so a tenant may still debug a pod its Deployment made.
        expect(matches("tenant-workload-queues", debug)).toBe(false);
        expect(matches("tenant-pod-security", { group: "", resource: "pods/status", operation: "UPDATE" })).toBe(false);
    });
    it("a privileged one is denied", () => {
        const withDebug = pod({ ephemeralContainers: [{ name: "debugger", image: "busybox:1.36", securityContext: { privileged: true } }] });
        const result = admit("tenant-pod-security", withDebug, { operation: "UPDATE" });
        expect(result.admitted).toBe(false);
        expect(result.messages).toContain("tenant containers may not be privileged");
    });
});

describe("tenant-pod-placement", () => {
    it.each([
        ["no priority class", {}],
        ["a tenant priority class", { priorityClassName: "tenant-spot" }],
        ["the shared pool's taint", { tolerations: [{ key: "compute-region.io/pool-role", operator: "Equal", value: "shared", effect: "NoSchedule" }] }],
        ["its own dedicated pool's taint", { tolerations: [{ key: "compute-region.io/tenant", value: "acme", effect: "NoSchedule" }] }],
        ["the default not-ready toleration", { tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }] }],
    ])("admits %s", (_what, spec) => expect(admit("tenant-pod-placement", pod(spec))).toEqual({ admitted: true, messages: [] }));
    it.each([
        ["an internal priority class", { priorityClassName: "internal-critical" }, "PriorityClasses"],
        ["the serving priority class", { priorityClassName: "serving" }, "PriorityClasses"],
        ["the internal pool's taint", { tolerations: [{ key: "compute-region.io/pool-role", value: "internal", effect: "NoSchedule" }] }, "may only tolerate"],
        ["the serving pool's taint", { tolerations: [{ key: "compute-region.io/pool-role", value: "serving" }] }, "may only tolerate"],
        ["every pool role (Exists)", { tolerations: [{ key: "compute-region.io/pool-role", operator: "Exists" }] }, "may only tolerate"],
        ["the system taint", { tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }] }, "may only tolerate"],
        ["another tenant's taint", { tolerations: [{ key: "compute-region.io/tenant", value: "globex" }] }, "may only tolerate"],
        ["every tenant's taint (Exists)", { tolerations: [{ key: "compute-region.io/tenant", operator: "Exists" }] }, "may only tolerate"],
        ["every taint (empty key, Exists)", { tolerations: [{ operator: "Exists" }] }, "may only tolerate"],
    ])("denies %s", (_what, spec, message) => {
        const result = admit("tenant-pod-placement", pod(spec));
        expect(result.admitted).toBe(false);
        expect(result.messages.join(" ")).toContain(message);
    });
});

describe("tenant-workload-queues", () => {
    it("admits a pod naming one of the tenant's queues", () => expect(admit("tenant-workload-queues", pod()).admitted).toBe(true));
    it("admits a Job naming its own dedicated pool's queue", () => {
        expect(admit("tenant-workload-queues", { apiVersion: "batch/v1", kind: "Job", metadata: { name: "j", labels: { "kueue.x-k8s.io/queue-name": "acme-l40s" } }, spec: {} }).admitted).toBe(true);
    });
    const owned = (kind: string, apiVersion: string) => pod({}, { labels: {}, ownerReferences: [{ kind, name: "o", uid: "u", apiVersion }] });
    it.each([
        ["the Job controller (its service account)", "system:serviceaccount:kube-system:job-controller"],
        ["the ReplicaSet controller (its service account)", "system:serviceaccount:kube-system:replicaset-controller"],
        ["the controller manager's own identity", "system:kube-controller-manager"],
    ])("leaves a pod made by %s to its workload", (_who, username) => {
        expect(admit("tenant-workload-queues", owned("Job", "batch/v1"), { username }).admitted).toBe(true);
    });
    it("denies a tenant's bare pod that names an owner itself (an ownerReference is not proof of a workload)", () => {
        const result = admit("tenant-workload-queues", owned("ConfigMap", "v1"));
        expect(result.admitted).toBe(false);
        expect(result.messages[0]).toContain("kueue.x-k8s.io/queue-name");
        expect(admit("tenant-workload-queues", owned("Job", "batch/v1")).admitted).toBe(false);
    });
    it("exempts only workload controllers: no tenant, no other service account", () => {
        expect(WORKLOAD_CONTROLLERS.every((u) => u.startsWith("system:"))).toBe(true);
        expect(admit("tenant-workload-queues", owned("Job", "batch/v1"), { username: "system:serviceaccount:tenant-acme:default" }).admitted).toBe(false);
    });

    describe("JobSets: the JobSet is queued, its child Jobs are the JobSet controller's", () => {
        const jobSet = (labels: Record<string, string>) => ({ apiVersion: "jobset.x-k8s.io/v1alpha2", kind: "JobSet", metadata: { name: "train", labels }, spec: { replicatedJobs: [] } });
        const childJob = { apiVersion: "batch/v1", kind: "Job", metadata: { name: "train-workers-0", labels: { "jobset.sigs.k8s.io/jobset-name": "train" }, ownerReferences: [{ apiVersion: "jobset.x-k8s.io/v1alpha2", kind: "JobSet", name: "train", uid: "u", controller: true }] }, spec: {} };
        it("the tenant's JobSet must name one of its queues", () => {
            expect(matches("tenant-workload-queues", { group: "jobset.x-k8s.io", resource: "jobsets", operation: "CREATE" })).toBe(true);
            expect(admit("tenant-workload-queues", jobSet({})).admitted).toBe(false);
            expect(admit("tenant-workload-queues", jobSet({ "kueue.x-k8s.io/queue-name": "shared-l40s" })).admitted).toBe(true);
        });
        it("a LeaderWorkerSet's StatefulSets likewise come from its controller", () => {
            const sts = { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "serve-0", ownerReferences: [{ apiVersion: "leaderworkerset.x-k8s.io/v1", kind: "LeaderWorkerSet", name: "serve", uid: "u" }] }, spec: {} };
            expect(admit("tenant-workload-queues", sts, { username: "system:serviceaccount:lws-system:lws-controller-manager" }).admitted).toBe(true);
            expect(admit("tenant-workload-queues", sts).admitted).toBe(false);
        });
        it("its child Jobs, unlabelled, are admitted from the JobSet controller and denied from anyone else", () => {
            expect(admit("tenant-workload-queues", childJob, { username: "system:serviceaccount:jobset-system:jobset-controller-manager" }).admitted).toBe(true);
            expect(admit("tenant-workload-queues", childJob).admitted).toBe(false);
        });
    });
    describe("CronJobs: the CronJob names the queue on its job template, which its Jobs inherit", () => {
        const cronJob = (templateLabels: Record<string, string> | undefined, ownLabels: Record<string, string> = {}) => ({
            apiVersion: "batch/v1",
            kind: "CronJob",
            metadata: { name: "nightly", labels: ownLabels },
            spec: {
                schedule: "0 2 * * *",
                jobTemplate: { ...(templateLabels ? { metadata: { labels: templateLabels } } : {}), spec: { suspend: true, template: { spec: { restartPolicy: "Never", containers: [{ name: "main", image: "x:1" }] } } } },
            },
        });
        // The Job the CronJob controller makes: its labels copied from the job template (getJobFromTemplate2).
        const jobFrom = (c: ReturnType<typeof cronJob>) => ({
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: { name: "nightly-29000000", labels: { ...(c.spec.jobTemplate.metadata?.labels ?? {}) }, ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: "nightly", uid: "u", controller: true }] },
            spec: c.spec.jobTemplate.spec,
        });
        it("is matched by the queue guardrail", () => {
            expect(matches("tenant-workload-queues", { group: "batch", resource: "cronjobs", operation: "CREATE" })).toBe(true);
            expect(matches("tenant-workload-queues", { group: "batch", resource: "cronjobs", operation: "UPDATE" })).toBe(true);
        });
        it("is admitted when its job template names one of the tenant's queues", () => {
            expect(admit("tenant-workload-queues", cronJob({ "kueue.x-k8s.io/queue-name": "shared-l40s" }))).toEqual({ admitted: true, messages: [] });
        });
        it.each([
            ["no labels on its job template", cronJob(undefined)],
            ["no queue label on its job template", cronJob({ team: "ml" })],
            ["the queue only on the CronJob itself (its Jobs do not inherit it)", cronJob({}, { "kueue.x-k8s.io/queue-name": "shared-l40s" })],
            ["another tenant's queue on its job template", cronJob({ "kueue.x-k8s.io/queue-name": "globex-h100" })],
        ])("is denied with %s", (_what, object) => {
            const result = admit("tenant-workload-queues", object);
            expect(result.admitted).toBe(false);
            expect(result.messages[0]).toContain("a CronJob on its jobTemplate");
        });
        it("its Jobs come from the CronJob controller and carry the template's queue label", () => {
            const job = jobFrom(cronJob({ "kueue.x-k8s.io/queue-name": "shared-l40s" }));
            expect(admit("tenant-workload-queues", job, { username: "system:serviceaccount:kube-system:cronjob-controller" }).admitted).toBe(true);
            // Made by the tenant instead, an unlabelled copy of such a Job is still checked.
            expect(admit("tenant-workload-queues", jobFrom(cronJob(undefined))).admitted).toBe(false);
            expect(admit("tenant-workload-queues", job).admitted).toBe(true);
        });
    });

    it.each([
        ["no queue label", { labels: {} }],
        ["no labels at all", { labels: undefined }],
        ["a foreign queue", { labels: { "kueue.x-k8s.io/queue-name": "internal-l40s" } }],
        ["another tenant's dedicated pool queue", { labels: { "kueue.x-k8s.io/queue-name": "globex-h100" } }],
    ])("denies a bare pod with %s", (_what, metadata) => {
        const p = pod({}, metadata);
        if ((metadata as { labels?: unknown }).labels === undefined) delete (p.metadata as { labels?: unknown }).labels;
        const result = admit("tenant-workload-queues", p);
        expect(result.admitted).toBe(false);
        expect(result.messages[0]).toContain("kueue.x-k8s.io/queue-name");
    });
});

describe("tenant-service-types", () => {
    const svc = (spec: Record<string, unknown>) => ({ apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { ports: [{ port: 80 }], ...spec } });
    it("admits ClusterIP (explicit or default)", () => {
        expect(admit("tenant-service-types", svc({})).admitted).toBe(true);
        expect(admit("tenant-service-types", svc({ type: "ClusterIP" })).admitted).toBe(true);
    });
    it.each(["NodePort", "LoadBalancer", "ExternalName"])("denies %s", (type) => expect(admit("tenant-service-types", svc({ type })).admitted).toBe(false));
    it("denies externalIPs", () => expect(admit("tenant-service-types", svc({ externalIPs: ["1.2.3.4"] })).messages).toContain("tenant Services may not set externalIPs"));
});

describe("tenant-isolation-objects", () => {
    const np = { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "open" }, spec: { podSelector: {} } };
    it.each(["CREATE", "UPDATE", "DELETE"] as const)("denies a tenant's %s of a NetworkPolicy", (operation) => expect(admit("tenant-isolation-objects", np, { operation }).admitted).toBe(false));
    it("lets Pulumi's deployer and the namespace controller manage them", () => {
        expect(admit("tenant-isolation-objects", np, { username: "compute-region:deployer" }).admitted).toBe(true);
        expect(admit("tenant-isolation-objects", np, { operation: "DELETE", username: "system:serviceaccount:kube-system:namespace-controller" }).admitted).toBe(true);
    });
});

describe("the CEL itself", () => {
    it("uses standard CEL only (no optional .? syntax)", () => {
        for (const p of ADMISSION_POLICIES) {
            for (const e of [...p.validations.map((v) => v.expression), ...p.matchConditions.map((c) => c.expression), ...(p.variables ?? []).map((v) => v.expression)]) {
                expect(e).not.toMatch(/\.\?|\[\?/);
            }
        }
    });
});
