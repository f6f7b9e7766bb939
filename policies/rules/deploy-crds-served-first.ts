import { stackPolicy } from "../engine/policy";
import { reportRehearsal } from "../model/analyses/rehearsal";
import { customResource, KUEUE_CHART, namespace, PROMETHEUS_CHART, release } from "../samples/deploy";

const monitoring = [namespace("observability"), release("kube-prometheus-stack", PROMETHEUS_CHART, "observability", {}, { after: ["ns-observability"] })];
const kueue = [namespace("kueue-system"), release("kueue", KUEUE_CHART, "kueue-system", {}, { after: ["ns-kueue-system"] })];

export const deployCrdsServedFirst = stackPolicy({
    name: "deploy-crds-served-first",
    description: "Every custom resource waits for the release or add-on that installs its CRD, at an apiVersion the pinned version serves.",
    rationale:
        "On a first `up` the engine creates a resource as soon as what it depends on exists. A custom resource that nothing orders " +
        "after its CRD's release fails with \"no matches for kind\", and one written at an apiVersion the pinned CRD does not serve " +
        "fails on every `up` (Kueue 0.14 serves Cohort only as v1beta1).",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Add the release that installs the CRD to the resource's dependsOn, and write it at a version the CRD serves (policies/model/upstream lists them).",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-3", title: "Configuration Change Control" },
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Changes are authorized, tested and approved" },
    ],
    validateStack: (args, report) => reportRehearsal(args.resources, ["crd"], report),
    samples: {
        allowed: [
            {
                description: "A ServiceMonitor that waits for the release installing the Prometheus operator's CRDs.",
                resources: [...monitoring, customResource("models", "monitoring.coreos.com/v1", "ServiceMonitor", "observability", {}, { after: ["kube-prometheus-stack", "ns-observability"] })],
            },
            { description: "A Kueue Cohort at the version Kueue 0.14 serves, after Kueue.", resources: [...kueue, customResource("shard-a", "kueue.x-k8s.io/v1beta1", "Cohort", undefined, {}, { after: ["kueue"] })] },
        ],
        disallowed: [
            {
                description: "A ServiceMonitor created alongside the release that installs its CRD.",
                expect: "models (ServiceMonitor): it is created before release kube-prometheus-stack installs its CRD",
                resources: [...monitoring, customResource("models", "monitoring.coreos.com/v1", "ServiceMonitor", "observability", {}, { after: ["ns-observability"] })],
            },
            {
                description: "A Cohort at v1alpha1, which Kueue 0.14 no longer serves.",
                expect: "kueue.x-k8s.io/v1alpha1 is not served: release kueue serves Cohort only as kueue.x-k8s.io/v1beta1",
                resources: [...kueue, customResource("shard-a", "kueue.x-k8s.io/v1alpha1", "Cohort", undefined, {}, { after: ["kueue"] })],
            },
            {
                description: "A KEDA ScaledObject in a stack that installs no KEDA.",
                expect: "no release or add-on of this stack installs the CRD keda.sh/ScaledObject",
                resources: [namespace("serving"), customResource("scale", "keda.sh/v1alpha1", "ScaledObject", "serving", {}, { after: ["ns-serving"] })],
            },
        ],
    },
});
