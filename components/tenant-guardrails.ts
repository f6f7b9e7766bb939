import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType } from "./component-type";
import { LABELS } from "compute-region-policies/model";
import { ADMISSION_POLICIES } from "./admission-policies";

/** The guardrails take no arguments: they are the same in every region. */
export type TenantGuardrailsArgs = Record<string, never>;

/** Every tenant namespace carries this label; the bindings select on it (tenants cannot label namespaces). */
export const TENANT_NAMESPACE_SELECTOR = { matchLabels: { [LABELS.namespaceKind]: "tenant" } };

/**
 * The ValidatingAdmissionPolicies of `admission-policies.ts`, each with a binding that denies (never
 * just warns) in every tenant namespace. They fail closed: if the API server cannot evaluate a
 * policy, the request is refused.
 *
 * Options: the cluster's Kubernetes provider (`providers`).
 */
export class TenantGuardrails extends pulumi.ComponentResource {
    constructor(name: string, _args: TenantGuardrailsArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("TenantGuardrails"), name, {}, componentOptions("TenantGuardrails", opts));
        for (const spec of ADMISSION_POLICIES) {
            const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
                `${name}-${spec.name}`,
                {
                    metadata: { name: spec.name, annotations: { "compute-region.io/description": spec.description } },
                    spec: {
                        failurePolicy: "Fail",
                        matchConstraints: { resourceRules: spec.resourceRules },
                        matchConditions: spec.matchConditions,
                        ...(spec.variables ? { variables: spec.variables } : {}),
                        validations: spec.validations,
                    },
                },
                { parent: this },
            );
            new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
                `${name}-${spec.name}`,
                {
                    metadata: { name: spec.name },
                    spec: { policyName: spec.name, validationActions: ["Deny"], matchResources: { namespaceSelector: TENANT_NAMESPACE_SELECTOR } },
                },
                { parent: this, dependsOn: [policy] },
            );
        }
        this.registerOutputs({});
    }
}
