import { resourcesOfType, stackPolicy } from "../engine/policy";
import { GUARDRAIL_POLICIES, GUARDRAILS, LABELS, QUEUED_WORKLOADS } from "../model/domain/conventions";
import { stackNamespaces } from "../model/evidence/per-stack";
import { cannotDecide, plain, unknownWithin } from "../model/evidence/deploy-input";
import { K8S_TYPES, TYPES } from "../model/domain/types";
import { asList } from "../model/domain/values";
import { sample } from "../samples/sample";
import { tenantNs } from "../samples/tenants";
import { LabelSelector } from "../model/upstream/types";
import { selectorMatches } from "../model/domain/label-selectors";

const VAP = K8S_TYPES.validatingAdmissionPolicy;
const VAPB = K8S_TYPES.validatingAdmissionPolicyBinding;

const guardrails = (opts: { failurePolicy?: string; actions?: string[]; selector?: Record<string, unknown>; skip?: string; queues?: { resourceRules: unknown[]; expression: string } } = {}) =>
    GUARDRAIL_POLICIES.filter((n) => n !== opts.skip).flatMap((name) => [
        sample(VAP, `${name}-policy`, {
            apiVersion: "admissionregistration.k8s.io/v1",
            kind: "ValidatingAdmissionPolicy",
            metadata: { name },
            spec: {
                failurePolicy: opts.failurePolicy ?? "Fail",
                ...(name === GUARDRAILS.workloadQueues && opts.queues ? { matchConstraints: { resourceRules: opts.queues.resourceRules } } : {}),
                validations: [{ expression: name === GUARDRAILS.workloadQueues && opts.queues ? opts.queues.expression : "true" }],
            },
        }),
        sample(VAPB, `${name}-binding`, {
            apiVersion: "admissionregistration.k8s.io/v1",
            kind: "ValidatingAdmissionPolicyBinding",
            metadata: { name },
            spec: { policyName: name, validationActions: opts.actions ?? ["Deny"], matchResources: { namespaceSelector: opts.selector ?? { matchLabels: { [LABELS.namespaceKind]: "tenant" } } } },
        }),
    ]);

/** The queue guardrail as the region installs it: matching every queued kind, reading each kind's queue label where it is. */
const QUEUE_RULES = [
    { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"] },
    { apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["jobs", "cronjobs"] },
];
const QUEUE_CHECK = "request.kind.kind == 'CronJob' ? 'kueue.x-k8s.io/queue-name' in object.spec.jobTemplate.metadata.labels : 'kueue.x-k8s.io/queue-name' in object.metadata.labels";
const tenantRole = (tenant: string, resources: string[]) =>
    sample(K8S_TYPES.role, `${tenant}-member`, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "tenant-member", namespace: `tenant-${tenant}` },
        rules: [{ apiGroups: ["batch"], resources, verbs: ["get", "list", "create", "delete"] }],
    });

const listed = (values: unknown, wanted: string) => asList(values).some((v) => v === wanted || v === "*");

export const tenantGuardrailsBound = stackPolicy({
    name: "tenant-guardrails-bound",
    description:
        "Where the region has tenant namespaces, every runtime guardrail (ValidatingAdmissionPolicy) exists, fails closed, and is bound with Deny to a selector that matches every tenant namespace; the queue guardrail matches every workload kind a tenant's Role lets it create and reads a CronJob's queue from its job template.",
    rationale:
        "Tenants create pods the policy pack never sees; the admission guardrails are what holds the isolation invariants for " +
        "them. A guardrail that only warns, fails open, or misses a namespace leaves that tenant unguarded; a workload kind the " +
        "queue guardrail does not match (a CronJob, whose Jobs its controller makes) runs on GPUs outside every queue and its quota.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: `Keep the TenantGuardrails component: policies ${GUARDRAIL_POLICIES.join(", ")} with failurePolicy Fail, bindings with validationActions [Deny] selecting ${LABELS.namespaceKind}=tenant, and that label on every tenant namespace.`,
    controls: [
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-BC-CPI-2", title: "Block privileged containers (enforced at admission)" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-7", title: "Least Functionality" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.8", title: "Controls prevent or detect unauthorized software" },
    ],
    validateStack: (args, report) => {
        const tenants = stackNamespaces(args.resources).filter((n) => n.kind === "tenant");
        if (tenants.length === 0) return;
        const policies = resourcesOfType(args, VAP);
        const bindings = resourcesOfType(args, VAPB);
        // A tenant shard stack runs on a platform that owns the (cluster-wide) guardrails and proves
        // them with this same policy; the shard only has to carry the label the bindings select.
        const onPlatform = policies.length === 0 && resourcesOfType(args, TYPES.stackReference).some((r) => r.props.outputs?.layer === "platform");
        if (onPlatform) {
            for (const ns of tenants.filter((n) => n.labels[LABELS.namespaceKind] !== "tenant")) report(`tenant namespace ${ns.name} lacks ${LABELS.namespaceKind}=tenant, so the platform's guardrails do not select it.`);
            return;
        }
        for (const name of GUARDRAIL_POLICIES) {
            const policy = policies.find((p) => p.props.metadata?.name === name);
            if (!policy) {
                report(`guardrail ${name} does not exist.`);
                continue;
            }
            if ((policy.props.spec?.failurePolicy ?? "Fail") !== "Fail") report(`guardrail ${name} fails open (failurePolicy ${policy.props.spec?.failurePolicy}).`, policy.urn);
            const bound = bindings.filter((b) => b.props.spec?.policyName === name && [b.props.spec?.validationActions ?? []].flat().includes("Deny"));
            if (bound.length === 0) {
                report(`guardrail ${name} has no binding that denies (validationActions Deny).`, policy.urn);
                continue;
            }
            // Each binding's selector read once, not once a tenant through CrossGuard's proxy (a region has a thousand tenants);
            // a selector unknown during the preview cannot say which namespaces it binds, as reading it through the proxy would not.
            const selectors = bound.map((b) => plain(b.props.spec?.matchResources?.namespaceSelector ?? {}) as LabelSelector);
            const undecided = selectors.map((sel, i) => unknownWithin(sel, `${bound[i].name}.spec.matchResources.namespaceSelector`)).find((x) => x !== undefined);
            if (undecided) cannotDecide(undecided);
            const unguarded = tenants.filter((ns) => !selectors.some((sel) => selectorMatches(sel, ns.labels)));
            if (unguarded.length > 0) report(`guardrail ${name} is not bound to tenant namespace${unguarded.length > 1 ? "s" : ""} ${unguarded.map((n) => n.name).join(", ")}.`, policy.urn);
        }
        // Every kind that runs pods and that a tenant's Role lets it create must name a queue: the queue guardrail matches it.
        const queues = policies.find((p) => p.props.metadata?.name === GUARDRAILS.workloadQueues);
        if (!queues) return;
        const rules: any[] = [queues.props.spec?.matchConstraints?.resourceRules ?? []].flat();
        const matched = (apiGroup: string, resource: string) => rules.some((r) => listed(r?.apiGroups, apiGroup) && listed(r?.operations, "CREATE") && listed(r?.resources, resource));
        const tenantNamespaces = new Set(tenants.map((t) => t.name));
        const grantedBy = new Map<string, string[]>();
        // Each Role read once as a plain object (not rule by rule through CrossGuard's proxy: a thousand tenants have a
        // thousand Roles); what the proxy would have thrown on, an unknown namespace or rule, ends the policy as "not run".
        for (const role of resourcesOfType(args, K8S_TYPES.role)) {
            const props = plain(role.props) as Record<string, any>;
            const namespaceUnknown = unknownWithin(props.metadata?.namespace, `${role.name}.metadata.namespace`);
            if (namespaceUnknown) cannotDecide(namespaceUnknown);
            if (!tenantNamespaces.has(props.metadata?.namespace)) continue;
            const rulesUnknown = unknownWithin(props.rules, `${role.name}.rules`);
            if (rulesUnknown) cannotDecide(rulesUnknown);
            for (const rule of asList(props.rules)) {
                if (!listed(rule?.verbs, "create")) continue;
                for (const w of QUEUED_WORKLOADS.filter((k) => listed(rule?.apiGroups, k.apiGroup) && listed(rule?.resources, k.resource))) {
                    // Appended in place: copying the list for each of a thousand tenants' Roles was quadratic.
                    const roles = grantedBy.get(w.resource) ?? [];
                    roles.push(`${props.metadata?.namespace}/${props.metadata?.name}`);
                    grantedBy.set(w.resource, roles);
                }
            }
        }
        for (const w of QUEUED_WORKLOADS) {
            const roles = grantedBy.get(w.resource);
            if (roles && !matched(w.apiGroup, w.resource)) {
                report(`guardrail ${GUARDRAILS.workloadQueues} does not match ${w.resource}, which tenants may create (Role ${[...new Set(roles)].join(", ")}): they would run without a queue.`, queues.urn);
            }
        }
        // A kind whose queue label is not its own (a CronJob's, on its job template) must be checked there.
        const expressions = [queues.props.spec?.validations ?? []].flat().map((v: any) => String(v?.expression ?? ""));
        for (const w of QUEUED_WORKLOADS.filter((k) => k.queueLabelsAt.join(".") !== "metadata.labels" && matched(k.apiGroup, k.resource))) {
            if (!expressions.some((e) => e.includes(w.queueLabelsAt.join(".")))) {
                report(`guardrail ${GUARDRAILS.workloadQueues} matches ${w.resource} but no validation reads ${w.queueLabelsAt.join(".")}, where a ${w.kind}'s workloads take their queue label from.`, queues.urn);
            }
        }
    },
    samples: {
        allowed: [
            { description: "Every guardrail bound with Deny to the tenant namespace label.", resources: [tenantNs("acme"), ...guardrails()] },
            {
                description: "Tenants may create Jobs and CronJobs; the queue guardrail matches both and reads a CronJob's queue from its job template.",
                resources: [tenantNs("acme"), tenantRole("acme", ["jobs", "cronjobs"]), ...guardrails({ queues: { resourceRules: QUEUE_RULES, expression: QUEUE_CHECK } })],
            },
        ],
        disallowed: [
            {
                description: "A shard's tenant namespace without the label the platform's guardrail bindings select.",
                expect: "tenant namespace tenant-acme lacks compute-region.io/namespace-kind=tenant, so the platform's guardrails do not select it",
                resources: [
                    { ...tenantNs("acme"), props: { apiVersion: "v1", kind: "Namespace", metadata: { name: "tenant-acme", labels: { [LABELS.tenant]: "acme" } } } },
                    sample(TYPES.stackReference, "platform", { name: "org/compute-region/prod-platform", outputs: { layer: "platform" } }),
                ],
            },
            { description: "A missing guardrail.", expect: "guardrail tenant-pod-security does not exist", resources: [tenantNs("acme"), ...guardrails({ skip: "tenant-pod-security" })] },
            { description: "Guardrails that only warn.", expect: "has no binding that denies", resources: [tenantNs("acme"), ...guardrails({ actions: ["Warn"] })] },
            { description: "A guardrail that fails open.", expect: "fails open (failurePolicy Ignore)", resources: [tenantNs("acme"), ...guardrails({ failurePolicy: "Ignore" })] },
            { description: "Bindings that miss a tenant namespace.", expect: "is not bound to tenant namespace tenant-acme", resources: [tenantNs("acme"), ...guardrails({ selector: { matchLabels: { "kubernetes.io/metadata.name": "tenant-globex" } } })] },
            {
                description: "Tenants may create CronJobs, and the queue guardrail matches only Pods and Jobs: the CronJob's Jobs come from its controller, which the guardrail exempts.",
                expect: "guardrail tenant-workload-queues does not match cronjobs, which tenants may create (Role tenant-acme/tenant-member): they would run without a queue",
                resources: [
                    tenantNs("acme"),
                    tenantRole("acme", ["jobs", "cronjobs"]),
                    ...guardrails({ queues: { resourceRules: [{ apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["jobs"] }], expression: QUEUE_CHECK } }),
                ],
            },
            {
                description: "The queue guardrail matches CronJobs but reads their own labels, which their Jobs never get.",
                expect: "guardrail tenant-workload-queues matches cronjobs but no validation reads spec.jobTemplate.metadata.labels",
                resources: [tenantNs("acme"), tenantRole("acme", ["cronjobs"]), ...guardrails({ queues: { resourceRules: QUEUE_RULES, expression: "'kueue.x-k8s.io/queue-name' in object.metadata.labels" } })],
            },
        ],
    },
});
