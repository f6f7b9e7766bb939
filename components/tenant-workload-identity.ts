import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType } from "./component-type";
import { LABELS, TAGS, TENANT_WORKLOAD_SERVICE_ACCOUNT, tenantBoundaryDocument } from "compute-region-policies/model";
import { dependsOnOf } from "./options";

/** What a tenant's config says of its workloads' AWS identity: a role in its own account to chain to, or a policy. */
export interface WorkloadIdentitySettings {
    /** A role in the tenant's own account that the role created here chains to (Pod Identity `targetRoleArn`). */
    targetRoleArn?: string;
    /** Or: the permission policy (an IAM policy document) of the role created here. */
    policy?: Record<string, any>;
}

/** A tenant's workloads' AWS identity. */
export interface TenantWorkloadIdentityArgs extends WorkloadIdentitySettings {
    /** The tenant (DNS label). */
    tenant: string;
    /** The tenant's namespace: the one namespace the role is associated with. */
    namespace: string;
    /** The EKS cluster (name), for the association and the trust policy's session tags. */
    clusterName: pulumi.Input<string>;
    /** This account and its partition: the boundary denies this account's platform resources. */
    accountId: pulumi.Input<string>;
    partition: pulumi.Input<string>;
    /** Tags for AWS resources. */
    tags: Record<string, string>;
}

/**
 * What a tenant's workloads reach its own AWS resources as: a role created here, associated by EKS
 * Pod Identity with one service account (`workload`) in the tenant's namespace. Either the role
 * chains to a role in the tenant's own account (`targetRoleArn`: the pod gets that role's
 * credentials, and the role here may do nothing but assume it) or it carries the policy the tenant
 * names. Every such role carries the tenant's permissions boundary, which denies this account's
 * resources that are not the tenant's (and, by ARN, its secrets, keys, databases, cluster and IAM),
 * and its trust policy admits EKS Pod Identity only for that namespace and service account.
 *
 * Options: the cluster's Kubernetes provider (`providers`) and, in `dependsOn`, the tenant's namespace.
 */
export class TenantWorkloadIdentity extends pulumi.ComponentResource {
    public readonly roleArn: pulumi.Output<string>;
    public readonly serviceAccount = TENANT_WORKLOAD_SERVICE_ACCOUNT;

    constructor(name: string, args: TenantWorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("TenantWorkloadIdentity"), name, {}, componentOptions("TenantWorkloadIdentity", opts));
        if ((args.targetRoleArn === undefined) === (args.policy === undefined)) {
            throw new pulumi.ResourceError(`TenantWorkloadIdentity ${name}: give exactly one of targetRoleArn and policy`, this);
        }
        const tags = { ...args.tags, [TAGS.tenant]: args.tenant };
        const boundary = new aws.iam.Policy(
            `${name}-boundary`,
            {
                description: `Permissions boundary of tenant ${args.tenant}'s roles: nothing of this account that is not the tenant's`,
                policy: pulumi.all([args.accountId, args.partition]).apply(([accountId, partition]) => JSON.stringify(tenantBoundaryDocument({ tenant: args.tenant, accountId, partition }))),
                tags,
            },
            { parent: this },
        );
        const role = new aws.iam.Role(
            `${name}-role`,
            {
                description: `Workloads of tenant ${args.tenant} (service account ${args.namespace}/${TENANT_WORKLOAD_SERVICE_ACCOUNT})`,
                // EKS Pod Identity, for this cluster, namespace and service account only (its session tags).
                assumeRolePolicy: pulumi.output(args.clusterName).apply((cluster) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Effect: "Allow",
                                Principal: { Service: "pods.eks.amazonaws.com" },
                                Action: ["sts:AssumeRole", "sts:TagSession"],
                                Condition: {
                                    StringEquals: {
                                        "aws:RequestTag/eks-cluster-name": cluster,
                                        "aws:RequestTag/kubernetes-namespace": args.namespace,
                                        "aws:RequestTag/kubernetes-service-account": TENANT_WORKLOAD_SERVICE_ACCOUNT,
                                    },
                                },
                            },
                        ],
                    }),
                ),
                permissionsBoundary: boundary.arn,
                tags,
            },
            { parent: this },
        );
        this.roleArn = role.arn;
        new aws.iam.RolePolicy(
            `${name}-policy`,
            {
                role: role.name,
                policy: JSON.stringify(
                    args.targetRoleArn
                        ? { Version: "2012-10-17", Statement: [{ Sid: "ChainToTheTenantsRole", Effect: "Allow", Action: ["sts:AssumeRole", "sts:TagSession"], Resource: args.targetRoleArn }] }
                        : args.policy,
                ),
            },
            { parent: this },
        );
        const account = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            { metadata: { name: TENANT_WORKLOAD_SERVICE_ACCOUNT, namespace: args.namespace, labels: { [LABELS.tenant]: args.tenant } } },
            { parent: this, dependsOn: dependsOnOf(opts) },
        );
        new aws.eks.PodIdentityAssociation(
            `${name}-association`,
            {
                clusterName: args.clusterName,
                namespace: args.namespace,
                serviceAccount: TENANT_WORKLOAD_SERVICE_ACCOUNT,
                roleArn: role.arn,
                ...(args.targetRoleArn ? { targetRoleArn: args.targetRoleArn } : {}),
                tags,
            },
            { parent: this, dependsOn: [account] },
        );
        this.registerOutputs({ roleArn: this.roleArn, serviceAccount: this.serviceAccount });
    }
}
