import {
    DEPLOYER_USERNAME,
    GUARDRAILS,
    KUEUE_QUEUE_LABEL,
    LABELS,
    NAMESPACES,
    PRIORITY_CLASSES,
    QUEUE_ALLOWED_LABEL_PREFIX,
    QUEUED_WORKLOADS,
    SYSTEM_TAINT,
    TAINT_KEYS,
} from "compute-region-policies/model";

/**
 * The runtime guardrails of tenant namespaces as ValidatingAdmissionPolicy specs (admissionregistration.k8s.io/v1).
 * Tenants create pods the policy pack never sees, so the invariants must also hold at admission.
 * Standard CEL only (no optional `.?` syntax); tested with a CEL library in test/admission.test.ts.
 */
export interface Validation {
    expression: string;
    message: string;
    reason: "Forbidden" | "Invalid";
}

export interface AdmissionPolicySpec {
    name: string;
    description: string;
    resourceRules: { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] }[];
    variables?: { name: string; expression: string }[];
    /** Requests that do not match all conditions are not checked (who is exempt). */
    matchConditions: { name: string; expression: string }[];
    validations: Validation[];
}

const TENANT_PRIORITY_CLASSES = PRIORITY_CLASSES.filter((p) => p.tier === "tenant").map((p) => `'${p.name}'`).join(", ");
const str = (s: string) => `'${s}'`;

/** Pulumi's deployer (it manages tenant namespaces) is the only identity exempt from every guardrail. */
const NOT_DEPLOYER = { name: "not-the-deployer", expression: `request.userInfo.username != ${str(DEPLOYER_USERNAME)}` };

/** Kubernetes' own controllers that must delete isolation objects when a namespace is deleted. */
const CLEANUP_CONTROLLERS = ["system:serviceaccount:kube-system:namespace-controller", "system:serviceaccount:kube-system:generic-garbage-collector"];

const serviceAccount = (namespace: string, name: string) => `system:serviceaccount:${namespace}:${name}`;

/**
 * Who makes a workload's children (its Pods, a Deployment's ReplicaSets, a JobSet's or CronJob's Jobs)
 * and updates them later: the only requesters whose objects skip the queue check, because the
 * workload they come from was checked when the tenant created it. Judged by the request's username,
 * which a tenant cannot take (tenants may write ownerReferences, not act as these accounts).
 * - kube-controller-manager: each controller's client is named in kubernetes/kubernetes
 *   cmd/kube-controller-manager/app/apps.go and batch.go (`ClientOrDie(logger, "<name>")`); with
 *   --use-service-account-credentials it acts as that service account in kube-system, otherwise as
 *   system:kube-controller-manager. EKS does not document which, so both are listed. The garbage
 *   collector removes ownerReferences when a workload is deleted with its pods orphaned.
 * - Kueue (pinned chart 0.14.2, release `kueue`): `<release>-controller-manager` in its namespace
 *   (kubernetes-sigs/kueue charts/kueue/templates/rbac/service_account.yaml); it ungates and
 *   unsuspends what it admits.
 * - JobSet: `jobset-controller-manager` in `jobset-system` (kubernetes-sigs/jobset
 *   config/default/kustomization.yaml namePrefix and namespace, config/components/rbac/service_account.yaml).
 *   Kueue queues a JobSet as one workload from the label on the JobSet, and its child Jobs carry no
 *   queue label (Kueue leaves Jobs whose owner it manages to the owner), so they are admitted when
 *   the JobSet controller makes them.
 * - LeaderWorkerSet: `lws-controller-manager` in `lws-system` (kubernetes-sigs/lws
 *   config/default/kustomization.yaml, config/rbac/service_account.yaml); it makes the leader and
 *   worker StatefulSets of a queued LeaderWorkerSet.
 * The PyTorchJob controller is not listed: its identity differs between Kubeflow training-operator
 * releases and none is pinned here, so a PyTorchJob's pods must carry the queue label themselves.
 */
export const WORKLOAD_CONTROLLERS = [
    ...["replicaset-controller", "deployment-controller", "statefulset-controller", "daemon-set-controller", "job-controller", "cronjob-controller", "generic-garbage-collector"].map((c) =>
        serviceAccount("kube-system", c),
    ),
    "system:kube-controller-manager",
    serviceAccount(NAMESPACES.kueue, "kueue-controller-manager"),
    serviceAccount("jobset-system", "jobset-controller-manager"),
    serviceAccount("lws-system", "lws-controller-manager"),
];

const ALL_CONTAINERS =
    "(has(object.spec.initContainers) ? object.spec.initContainers : []) + object.spec.containers + (has(object.spec.ephemeralContainers) ? object.spec.ephemeralContainers : [])";

const toleration = (t: string) =>
    `(has(${t}.key) && ${t}.key != '') && ${t}.key != ${str(SYSTEM_TAINT.key)} && ` +
    `(${t}.key != ${str(TAINT_KEYS.poolRole)} || ((!has(${t}.operator) || ${t}.operator == 'Equal') && has(${t}.value) && ${t}.value == 'shared')) && ` +
    `(${t}.key != ${str(TAINT_KEYS.tenant)} || ((!has(${t}.operator) || ${t}.operator == 'Equal') && has(${t}.value) && ${t}.value == namespaceObject.metadata.labels[${str(LABELS.tenant)}]))`;

/**
 * Pods, and the ephemeral containers `kubectl debug` adds through their own subresource (a request on
 * pods/ephemeralcontainers carries the whole Pod, so the same validations judge it).
 */
const POD_RULE = { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods", "pods/ephemeralcontainers"] };

/** The queued workload kinds, one rule per API group (the core and built-in groups at v1, CRDs at every version). */
const QUEUED_WORKLOAD_RULES = [...new Set(QUEUED_WORKLOADS.map((w) => w.apiGroup))].map((apiGroup) => ({
    apiGroups: [apiGroup],
    apiVersions: apiGroup === "" || apiGroup === "batch" || apiGroup === "apps" ? ["v1"] : ["*"],
    operations: ["CREATE", "UPDATE"],
    resources: QUEUED_WORKLOADS.filter((w) => w.apiGroup === apiGroup).map((w) => w.resource),
}));

/** The object's labels at `path` name one of the tenant's queues (every field on the way checked with has()). */
function namesOwnQueue(path: readonly string[]): string {
    const at = (n: number) => `object.${path.slice(0, n).join(".")}`;
    const present = path.map((_, i) => `has(${at(i + 1)})`).join(" && ");
    const labels = at(path.length);
    return `${present} && ${str(KUEUE_QUEUE_LABEL)} in ${labels} && (${str(QUEUE_ALLOWED_LABEL_PREFIX)} + ${labels}[${str(KUEUE_QUEUE_LABEL)}]) in namespaceObject.metadata.labels`;
}

/** The queue check of every queued kind (by the request's kind, which the API server sets): its own labels, or where its kind keeps them (a CronJob's job template). */
const QUEUE_CHECK = QUEUED_WORKLOADS.filter((w) => w.queueLabelsAt.join(".") !== "metadata.labels").reduceRight(
    (otherwise, w) => `(request.kind.kind == ${str(w.kind)} ? (${namesOwnQueue(w.queueLabelsAt)}) : ${otherwise})`,
    `(${namesOwnQueue(["metadata", "labels"])})`,
);

export const ADMISSION_POLICIES: AdmissionPolicySpec[] = [
    {
        name: GUARDRAILS.podSecurity,
        description: "No host namespaces, host paths or ports, privilege or added capabilities, and no scheduler bypass.",
        resourceRules: [POD_RULE],
        variables: [{ name: "containers", expression: ALL_CONTAINERS }],
        matchConditions: [NOT_DEPLOYER],
        validations: [
            { expression: "!has(object.spec.hostNetwork) || object.spec.hostNetwork == false", message: "tenant pods may not use the host network", reason: "Forbidden" },
            { expression: "!has(object.spec.hostPID) || object.spec.hostPID == false", message: "tenant pods may not share the host PID namespace", reason: "Forbidden" },
            { expression: "!has(object.spec.hostIPC) || object.spec.hostIPC == false", message: "tenant pods may not share the host IPC namespace", reason: "Forbidden" },
            { expression: "!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.hostPath))", message: "tenant pods may not mount host paths", reason: "Forbidden" },
            { expression: "variables.containers.all(c, !has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0))", message: "tenant pods may not use host ports", reason: "Forbidden" },
            {
                expression: "variables.containers.all(c, !has(c.securityContext) || !has(c.securityContext.privileged) || c.securityContext.privileged == false)",
                message: "tenant containers may not be privileged",
                reason: "Forbidden",
            },
            {
                expression: "variables.containers.all(c, !has(c.securityContext) || !has(c.securityContext.capabilities) || !has(c.securityContext.capabilities.add) || size(c.securityContext.capabilities.add) == 0)",
                message: "tenant containers may not add capabilities",
                reason: "Forbidden",
            },
            {
                expression: "request.operation != 'CREATE' || !has(object.spec.nodeName) || object.spec.nodeName == ''",
                message: "tenant pods may not set spec.nodeName (it bypasses the scheduler and the pool taints)",
                reason: "Forbidden",
            },
        ],
    },
    {
        name: GUARDRAILS.podPlacement,
        description: "Tenant pods use tenant PriorityClasses and tolerate only shared pools and their own dedicated pool.",
        resourceRules: [POD_RULE],
        matchConditions: [NOT_DEPLOYER],
        validations: [
            {
                expression: `!has(object.spec.priorityClassName) || object.spec.priorityClassName in [${TENANT_PRIORITY_CLASSES}]`,
                message: `tenant pods may only use the PriorityClasses ${TENANT_PRIORITY_CLASSES.replace(/'/g, "")}`,
                reason: "Forbidden",
            },
            {
                expression: `!has(object.spec.tolerations) || object.spec.tolerations.all(t, ${toleration("t")})`,
                message: "tenant pods may only tolerate shared pools and their own dedicated pool (not internal, serving, system or another tenant's nodes)",
                reason: "Forbidden",
            },
        ],
    },
    {
        name: GUARDRAILS.workloadQueues,
        description: "Every tenant workload (a CronJob through its job template) names one of the tenant's own Kueue LocalQueues; only what the workload controllers make from a checked workload is exempt.",
        resourceRules: QUEUED_WORKLOAD_RULES,
        // What a workload controller makes is admitted through its workload; the ResourceQuota caps GPUs either way.
        matchConditions: [NOT_DEPLOYER, { name: "not-made-by-a-workload-controller", expression: `!(request.userInfo.username in [${WORKLOAD_CONTROLLERS.map(str).join(", ")}])` }],
        validations: [
            {
                expression: QUEUE_CHECK,
                message: `workloads must carry the label ${KUEUE_QUEUE_LABEL} naming one of this tenant's LocalQueues (a CronJob on its jobTemplate, which its Jobs inherit)`,
                reason: "Forbidden",
            },
        ],
    },
    {
        name: GUARDRAILS.serviceTypes,
        description: "Tenant Services are ClusterIP only, with no external IPs.",
        resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["services"] }],
        matchConditions: [NOT_DEPLOYER],
        validations: [
            { expression: "!has(object.spec.type) || object.spec.type == 'ClusterIP'", message: "tenant Services must be ClusterIP (no NodePort, LoadBalancer or ExternalName)", reason: "Forbidden" },
            { expression: "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0", message: "tenant Services may not set externalIPs", reason: "Forbidden" },
        ],
    },
    {
        name: GUARDRAILS.isolationObjects,
        description: "Nobody but Pulumi creates, changes or deletes NetworkPolicies, quotas, LimitRanges, queues or RBAC in tenant namespaces.",
        resourceRules: [
            { apiGroups: ["networking.k8s.io"], apiVersions: ["*"], operations: ["CREATE", "UPDATE", "DELETE"], resources: ["networkpolicies"] },
            { apiGroups: [""], apiVersions: ["*"], operations: ["CREATE", "UPDATE", "DELETE"], resources: ["resourcequotas", "limitranges"] },
            { apiGroups: ["kueue.x-k8s.io"], apiVersions: ["*"], operations: ["CREATE", "UPDATE", "DELETE"], resources: ["localqueues"] },
            { apiGroups: ["rbac.authorization.k8s.io"], apiVersions: ["*"], operations: ["CREATE", "UPDATE", "DELETE"], resources: ["roles", "rolebindings"] },
        ],
        matchConditions: [NOT_DEPLOYER, { name: "not-namespace-cleanup", expression: `!(request.userInfo.username in [${CLEANUP_CONTROLLERS.map(str).join(", ")}])` }],
        validations: [{ expression: "false", message: "isolation and quota objects in tenant namespaces are managed by the platform (compute-region) only", reason: "Forbidden" }],
    },
];
