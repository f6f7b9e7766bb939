import { stackPolicy } from "../engine/policy";
import { reportRehearsal } from "../model/analyses/rehearsal";
import { deployment, job, namespace, ON_SYSTEM, SYSTEM_NODES } from "../samples/deploy";

const base = [SYSTEM_NODES, namespace("serving")];
const slowServer = { ...ON_SYSTEM, startupProbe: { periodSeconds: 10, failureThreshold: 180 } };

export const deployAwaitsCoverStartup = stackPolicy({
    name: "deploy-awaits-cover-startup",
    description: "Every awaited workload's time-out covers the start-up its own pods are allowed: a Deployment's startup probe budget, a Job's activeDeadlineSeconds.",
    rationale:
        "Pulumi waits 10 minutes for a Deployment or Job unless customTimeouts says otherwise. A model server whose startup probe " +
        "allows 30 minutes to load its weights fails the `up` while it is still loading, and a Job with no deadline cannot have " +
        "an await sized to it.",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: "Set customTimeouts.create (and update) to at least the pods' start-up allowance, explaining the figure; give every awaited Job an activeDeadlineSeconds.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-3", title: "Configuration Change Control" },
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Changes are authorized, tested and approved" },
    ],
    validateStack: (args, report) => reportRehearsal(args.resources, ["await"], report),
    samples: {
        allowed: [
            { description: "A slow server with an await that covers its startup probe.", resources: [...base, { ...deployment("model", "serving", slowServer, { after: ["system", "ns-serving"] }), customTimeouts: { create: "40m" } }] },
            { description: "A Job with a deadline and an await longer than it.", resources: [...base, { ...job("migrate", "serving", { ...ON_SYSTEM, activeDeadlineSeconds: 300 }, { after: ["system", "ns-serving"] }), customTimeouts: { create: "10m" } }] },
        ],
        disallowed: [
            {
                description: "A server allowed 30 minutes to start, awaited for Pulumi's default 10.",
                expect: "model (Deployment): its await of 600s (pulumi-kubernetes' default) is shorter than the 1800s its own probes allow its pods to start",
                resources: [...base, deployment("model", "serving", slowServer, { after: ["system", "ns-serving"] })],
            },
            {
                description: "A Job allowed to run longer than its await waits.",
                expect: "migrate (Job): its await of 600s is shorter than the 1200s the Job may run (activeDeadlineSeconds)",
                resources: [...base, job("migrate", "serving", { ...ON_SYSTEM, activeDeadlineSeconds: 1200 }, { after: ["system", "ns-serving"] })],
            },
            {
                description: "An awaited Job with no deadline.",
                expect: "migrate (Job): an awaited Job sets no spec.activeDeadlineSeconds",
                resources: [...base, job("migrate", "serving", ON_SYSTEM, { after: ["system", "ns-serving"] })],
            },
        ],
    },
});
