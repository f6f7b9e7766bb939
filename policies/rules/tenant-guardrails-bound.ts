import { resourcesOfType, stackPolicy } from "../engine/policy";
import { GUARDRAIL_POLICIES, LABELS } from "../model/conventions";
import { namespacesFromResources } from "../model/isolation-evidence";
import { selectorMatches } from "../model/reachability";
import { K8S_TYPES, TYPES } from "../model/types";
import { sample } from "../samples/sample";
import { tenantNs } from "../samples/tenants";

const VAP = K8S_TYPES.validatingAdmissionPolicy;
const VAPB = K8S_TYPES.validatingAdmissionPolicyBinding;

const guardrails = (opts: { failurePolicy?: string; actions?: string[]; selector?: Record<string, unknown>; skip?: string } = {}) =>
    GUARDRAIL_POLICIES.filter((n) => n !== opts.skip).flatMap((name) => [
        sample(VAP, `${name}-policy`, { apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicy", metadata: { name }, spec: { failurePolicy: opts.failurePolicy ?? "Fail", validations: [{ expression: "true" }] } }),
        sample(VAPB, `${name}-binding`, {
            apiVersion: "admissionregistration.k8s.io/v1",
            kind: "ValidatingAdmissionPolicyBinding",
            metadata: { name },
            spec: { policyName: name, validationActions: opts.actions ?? ["Deny"], matchResources: { namespaceSelector: opts.selector ?? { matchLabels: { [LABELS.namespaceKind]: "tenant" } } } },
        }),
    ]);

export const tenantGuardrailsBound = stackPolicy({
    name: "tenant-guardrails-bound",
    description: "Where the region has tenant namespaces, every runtime guardrail (ValidatingAdmissionPolicy) exists, fails closed, and is bound with Deny to a selector that matches every tenant namespace.",
    rationale:
        "Tenants create pods the policy pack never sees; the admission guardrails are what holds the isolation invariants for " +
        "them. A guardrail that only warns, fails open, or misses a namespace leaves that tenant unguarded.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: `Keep the TenantGuardrails component: policies ${GUARDRAIL_POLICIES.join(", ")} with failurePolicy Fail, bindings with validationActions [Deny] selecting ${LABELS.namespaceKind}=tenant, and that label on every tenant namespace.`,
    controls: [
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-BC-CPI-2", title: "Block privileged containers (enforced at admission)" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-7", title: "Least Functionality" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.8", title: "Controls prevent or detect unauthorized software" },
    ],
    validateStack: (args, report) => {
        const tenants = namespacesFromResources(args.resources).filter((n) => n.kind === "tenant");
        if (tenants.length === 0) return;
        const policies = resourcesOfType(args, VAP);
        const bindings = resourcesOfType(args, VAPB);
        // A tenant shard stack runs on a platform that owns the (cluster-wide) guardrails and proves
        // them with this same policy; the shard only has to carry the label the bindings select.
        const onPlatform = policies.length === 0 && args.resources.some((r) => r.type === TYPES.stackReference && r.props.outputs?.layer === "platform");
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
            const unguarded = tenants.filter((ns) => !bound.some((b) => selectorMatches(b.props.spec?.matchResources?.namespaceSelector ?? {}, ns.labels)));
            if (unguarded.length > 0) report(`guardrail ${name} is not bound to tenant namespace${unguarded.length > 1 ? "s" : ""} ${unguarded.map((n) => n.name).join(", ")}.`, policy.urn);
        }
    },
    samples: {
        allowed: [{ description: "Every guardrail bound with Deny to the tenant namespace label.", resources: [tenantNs("acme"), ...guardrails()] }],
        disallowed: [
            { description: "A missing guardrail.", expect: "guardrail tenant-pod-security does not exist", resources: [tenantNs("acme"), ...guardrails({ skip: "tenant-pod-security" })] },
            { description: "Guardrails that only warn.", expect: "has no binding that denies", resources: [tenantNs("acme"), ...guardrails({ actions: ["Warn"] })] },
            { description: "A guardrail that fails open.", expect: "fails open (failurePolicy Ignore)", resources: [tenantNs("acme"), ...guardrails({ failurePolicy: "Ignore" })] },
            { description: "Bindings that miss a tenant namespace.", expect: "is not bound to tenant namespace tenant-acme", resources: [tenantNs("acme"), ...guardrails({ selector: { matchLabels: { "kubernetes.io/metadata.name": "tenant-globex" } } })] },
        ],
    },
});
