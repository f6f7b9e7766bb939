import { stackPolicy } from "../engine/policy";
import { MONITORING_TYPES } from "../model/domain/types";
import { reportRehearsal } from "../model/analyses/rehearsal";
import { namespace } from "../samples/deploy";
import { sample } from "../samples/sample";

const configMap = (ns: string, after?: string[]) => sample(MONITORING_TYPES.configMap, "settings", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: ns }, data: {} }, after ? { dependsOn: after } : {});

export const deployNamespacesFirst = stackPolicy({
    name: "deploy-namespaces-first",
    description: "Every namespaced object and every Helm release waits for its Namespace, unless Kubernetes or an installed add-on makes it.",
    rationale:
        "An object created before its namespace fails (\"namespaces not found\"); one in a namespace nothing creates fails on every " +
        "`up`. The region creates its namespaces itself (not with Helm's createNamespace) so their labels and NetworkPolicies exist " +
        "before anything runs in them.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Create the Namespace in the stack (components/platform-namespace.ts) and add it to the object's dependsOn.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-3", title: "Configuration Change Control" },
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Changes are authorized, tested and approved" },
    ],
    validateStack: (args, report) => reportRehearsal(args.resources, ["namespace"], report),
    samples: {
        allowed: [
            { description: "A ConfigMap after its namespace.", resources: [namespace("billing"), configMap("billing", ["ns-billing"])] },
            { description: "kube-system is made by Kubernetes.", resources: [configMap("kube-system")] },
        ],
        disallowed: [
            { description: "A ConfigMap in a namespace nothing creates.", expect: "settings (ConfigMap): no resource of this stack creates the namespace billing", resources: [configMap("billing")] },
            {
                description: "A ConfigMap created alongside its namespace.",
                expect: "settings (ConfigMap): it is created before the namespace billing: nothing orders it after ns-billing",
                resources: [namespace("billing"), configMap("billing")],
            },
        ],
    },
});
