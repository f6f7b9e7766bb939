import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType } from "./component-type";
import {
    dedicatedClusterQueue,
    dedicatedLocalQueue,
    GPU_RESOURCE,
    GpuInstanceType,
    LABELS,
    NAMESPACES,
    poolCohort,
    QUEUE_KIND_LABEL,
} from "compute-region-policies/model";
import { InferenceService, ModelSpec } from "./inference-service";
import { dependsOnOf } from "./options";

/** One tenant's dedicated endpoint of a model. */
export interface DedicatedEndpointSpec {
    tenant: string;
    /** Only an active tenant's endpoint runs and holds GPUs; a suspended one is kept at zero replicas. */
    active: boolean;
    /** The hosted model the endpoint serves (its image, pool, GPUs per replica, weights). */
    model: ModelSpec;
    replicas: number;
}

export interface DedicatedEndpointsArgs {
    /** Every tenant's dedicated endpoints. */
    endpoints: DedicatedEndpointSpec[];
    /** Each serving pool's instance type, by pool name. */
    instances: Record<string, GpuInstanceType>;
    clusterName: pulumi.Input<string>;
    prometheusUrl: string;
    partition: pulumi.Input<string>;
    /** Per pool, what the model servers' pods wait for (see InferenceServiceArgs.podsWaitFor). */
    podsWaitFor: Record<string, pulumi.Resource[]>;
    /** The release that installs the Prometheus operator's CRDs. */
    monitorWaitsFor: pulumi.Resource[];
    /** What the Kueue objects wait for (the Kueue release that serves their CRDs). */
    queuesWaitFor: pulumi.Resource[];
    tags: Record<string, string>;
}

/**
 * Tenants' dedicated endpoints: for each tenant and serving pool, a ClusterQueue holding the GPUs
 * its endpoints there were sold (labelled `dedicated`, so the capacity model counts them as sold on
 * the pool) that lends nothing (no batch or other tenant ever runs on them) and may borrow one
 * replica's GPUs for a rolling update's surge, with a LocalQueue in the serving namespace; and for
 * each endpoint a model server (InferenceService) sized and scheduled as the shared one, with the
 * tenant's fixed replicas. The gateway routes `<tenant>/<model>` to it with that tenant's key only.
 *
 * Options: the Kubernetes provider (`providers`), and in `dependsOn` what the model servers wait for
 * (the serving namespace, the Prometheus stack's namespace).
 */
export class DedicatedEndpoints extends pulumi.ComponentResource {
    /** The model servers, by `<tenant>/<model>`. */
    public readonly services: Record<string, InferenceService> = {};

    constructor(name: string, args: DedicatedEndpointsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("DedicatedEndpoints"), name, {}, componentOptions("DedicatedEndpoints", opts));
        const byQueue = new Map<string, DedicatedEndpointSpec[]>();
        for (const e of args.endpoints) {
            const key = `${e.tenant}/${e.model.pool}`;
            byQueue.set(key, [...(byQueue.get(key) ?? []), e]);
        }
        const queues = new Map<string, pulumi.Resource>();
        for (const [key, endpoints] of byQueue) {
            const { tenant, model } = endpoints[0];
            const pool = model.pool;
            const active = endpoints[0].active;
            const gpus = active ? endpoints.reduce((sum, e) => sum + e.replicas * e.model.gpusPerReplica, 0) : 0;
            const surge = Math.max(...endpoints.map((e) => e.model.gpusPerReplica));
            const clusterQueue = new k8s.apiextensions.CustomResource(
                `${name}-${tenant}-${pool}-queue`,
                {
                    apiVersion: "kueue.x-k8s.io/v1beta1",
                    kind: "ClusterQueue",
                    metadata: { name: dedicatedClusterQueue(tenant, pool), labels: { [QUEUE_KIND_LABEL]: "dedicated", [LABELS.tenant]: tenant, [LABELS.pool]: pool } },
                    spec: {
                        cohort: poolCohort(pool),
                        namespaceSelector: { matchExpressions: [{ key: LABELS.namespaceName, operator: "In", values: [NAMESPACES.serving] }] },
                        queueingStrategy: "BestEffortFIFO",
                        // A suspended tenant keeps nothing running and admits nothing new.
                        stopPolicy: active ? "None" : "HoldAndDrain",
                        resourceGroups: [
                            {
                                coveredResources: [GPU_RESOURCE],
                                flavors: [{ name: pool, resources: [{ name: GPU_RESOURCE, nominalQuota: gpus, borrowingLimit: active ? surge : 0, lendingLimit: 0 }] }],
                            },
                        ],
                        preemption: { withinClusterQueue: "Never", reclaimWithinCohort: "Never" },
                    },
                },
                { parent: this, dependsOn: args.queuesWaitFor },
            );
            queues.set(key, clusterQueue);
            new k8s.apiextensions.CustomResource(
                `${name}-${tenant}-${pool}-local`,
                { apiVersion: "kueue.x-k8s.io/v1beta1", kind: "LocalQueue", metadata: { name: dedicatedLocalQueue(tenant, pool), namespace: NAMESPACES.serving }, spec: { clusterQueue: dedicatedClusterQueue(tenant, pool) } },
                // In the serving namespace, which the component's dependsOn holds.
                { parent: this, dependsOn: [...dependsOnOf(opts), ...args.queuesWaitFor, clusterQueue] },
            );
        }
        for (const e of args.endpoints) {
            const instance = args.instances[e.model.pool];
            if (!instance) throw new pulumi.ResourceError(`DedicatedEndpoints ${name}: tenant ${e.tenant}'s endpoint of ${e.model.name} is on pool ${e.model.pool}, which is not a serving pool of the region`, this);
            this.services[`${e.tenant}/${e.model.name}`] = new InferenceService(
                `${name}-${e.tenant}-${e.model.name}`,
                {
                    model: e.model,
                    instance,
                    clusterName: args.clusterName,
                    prometheusUrl: args.prometheusUrl,
                    partition: args.partition,
                    podsWaitFor: [...(args.podsWaitFor[e.model.pool] ?? []), queues.get(`${e.tenant}/${e.model.pool}`)!],
                    monitorWaitsFor: args.monitorWaitsFor,
                    tags: args.tags,
                    dedicated: { tenant: e.tenant, replicas: e.replicas, active: e.active },
                },
                { parent: this, dependsOn: dependsOnOf(opts) },
            );
        }
        this.registerOutputs({ endpoints: Object.keys(this.services) });
    }
}
