import type { RegionPolicy } from "../engine/policy";
import { eksControlPlaneLogging } from "./eks-control-plane-logging";
import { gpuHeadroomPreserved } from "./gpu-headroom-preserved";
import { helmReleasesPinned } from "./helm-releases-pinned";
import { nodeLaunchHardened } from "./node-launch-hardened";
import { nodePoolTaints } from "./node-pool-taints";
import { priorityClassesOrdered } from "./priority-classes-ordered";
import { eksEndpointRestricted } from "./eks-endpoint-restricted";
import { eksSecretsEncrypted } from "./eks-secrets-encrypted";
import { kmsKeyRotation } from "./kms-key-rotation-enabled";
import { logGroupsRetainedEncrypted } from "./log-groups-retained-encrypted";
import { regionMonitoringInPlace } from "./region-monitoring-in-place";
import { noPublicIngress } from "./no-public-ingress";
import { statefulResourcesProtected } from "./stateful-resources-protected";
import { vpcCniNetworkPolicy } from "./vpc-cni-enforces-network-policy";
import { vpcFlowLogsEnabled } from "./vpc-flow-logs-enabled";
import { dedicatedPoolNetworkConfined } from "./dedicated-pool-network-confined";
import { databaseEncryptedPrivate } from "./database-encrypted-private";
import { databaseManagedPassword } from "./database-managed-password";
import { databaseResilient } from "./database-resilient";
import { tenantGuardrailsBound } from "./tenant-guardrails-bound";
import { shardWithinBudget } from "./shard-within-budget";
import { gpuRequestsEqualLimits } from "./gpu-requests-equal-limits";
import { servingIngressConfined } from "./serving-ingress-confined";
import { servingWorkloadsConform } from "./serving-workloads-conform";
import { modelGatewayTls } from "./model-gateway-tls";
import { modelRoutesAuthenticated } from "./model-routes-authenticated";
import { modelTenantsRateLimited } from "./model-tenants-rate-limited";
import { tenantNamespaceDefaultDeny } from "./tenant-namespace-default-deny";
import { tenantNamespacesProtected } from "./tenant-namespaces-protected";
import { tenantNetworkIsolation } from "./tenant-network-isolation";
import { tenantRbacConfined } from "./tenant-rbac-confined";
import { tenantWorkloadsConfined } from "./tenant-workloads-confined";
import { tenantVolumesBound } from "./tenant-volumes-bound";
import { tenantPodIdentityConfined } from "./tenant-pod-identity-confined";
import { tenantRolesBounded } from "./tenant-roles-bounded";
import { tenantMetricsRouteEnforced } from "./tenant-metrics-route-enforced";
import { tenantDashboardsScoped } from "./tenant-dashboards-scoped";
import { tenantViewsRbacScoped } from "./tenant-views-rbac-scoped";
import { tenantBillingRowsScoped } from "./tenant-billing-rows-scoped";
import { deployFactsKnown } from "./deploy-facts-known";
import { disruptionBudgetsAllowDrain } from "./disruption-budgets-allow-drain";
import { databaseMinorVersionFloats } from "./database-minor-version-floats";
import { capacityBlocksLaunchCorrectly } from "./capacity-blocks-launch-correctly";
import { capacityBlockQuotaWithinWindow } from "./capacity-block-quota-within-window";
import { gpuAutoscalingMatchesCapacity } from "./gpu-autoscaling-matches-capacity";
import { gpuNodeRepairEnabled } from "./gpu-node-repair-enabled";
import { poolScalingWithinReservation } from "./pool-scaling-within-reservation";
import { deployCrdsServedFirst } from "./deploy-crds-served-first";
import { deployWebhooksServingFirst } from "./deploy-webhooks-serving-first";
import { deployNamespacesFirst } from "./deploy-namespaces-first";
import { deployWorkloadsSchedulable } from "./deploy-workloads-schedulable";
import { deployPodsNetworkReady } from "./deploy-pods-network-ready";
import { platformPathsOpen } from "./platform-paths-open";
import { deployImagesBuiltFirst } from "./deploy-images-built-first";
import { deployAwaitsCoverStartup } from "./deploy-awaits-cover-startup";
import { dedicatedEndpointsOneTenant } from "./dedicated-endpoints-one-tenant";
import { batchQueuesBorrowOnly } from "./batch-queues-borrow-only";
import { privatelinkPrincipalsNamed } from "./privatelink-principals-named";
import { accessLogsExcludeCredentials } from "./access-logs-exclude-credentials";
import { billingCoversSales } from "./billing-covers-sales";
import { alertsReachAPerson } from "./alerts-reach-a-person";
import { sloBurnAlertsMultiwindow } from "./slo-burn-alerts-multiwindow";
import { sloCreditsMetered } from "./slo-credits-metered";
import { threatDetectionCoversNodes } from "./threat-detection-covers-nodes";

/** Every policy of the pack, in catalog order. The pack (`pack.ts`), the library entry (`index.ts`), the evaluator and the catalog all read this list. */
/**
 * The stack policies that report the deploy rehearsal's findings: one rehearsal serves them all in
 * an evaluation, so their cost is the rehearsal's, once.
 */
export const REHEARSAL_POLICIES: readonly RegionPolicy[] = [
    deployFactsKnown,
    deployCrdsServedFirst,
    deployWebhooksServingFirst,
    deployNamespacesFirst,
    deployWorkloadsSchedulable,
    deployPodsNetworkReady,
    platformPathsOpen,
    deployImagesBuiltFirst,
    deployAwaitsCoverStartup,
];

export const policies: RegionPolicy[] = [
    // Cluster
    eksSecretsEncrypted,
    eksEndpointRestricted,
    eksControlPlaneLogging,
    vpcCniNetworkPolicy,
    // Network
    vpcFlowLogsEnabled,
    noPublicIngress,
    // Nodes
    nodeLaunchHardened,
    nodePoolTaints,
    capacityBlocksLaunchCorrectly,
    gpuNodeRepairEnabled,
    // GPU capacity and priority
    gpuHeadroomPreserved,
    gpuAutoscalingMatchesCapacity,
    poolScalingWithinReservation,
    capacityBlockQuotaWithinWindow,
    shardWithinBudget,
    priorityClassesOrdered,
    // Tenant isolation
    tenantNamespaceDefaultDeny,
    tenantNetworkIsolation,
    tenantWorkloadsConfined,
    tenantRbacConfined,
    tenantGuardrailsBound,
    dedicatedPoolNetworkConfined,
    tenantNamespacesProtected,
    tenantVolumesBound,
    tenantPodIdentityConfined,
    tenantRolesBounded,
    // Tenant views: what a tenant reads of its own usage, held to itself
    tenantMetricsRouteEnforced,
    tenantDashboardsScoped,
    tenantViewsRbacScoped,
    tenantBillingRowsScoped,
    // Serving
    servingWorkloadsConform,
    gpuRequestsEqualLimits,
    servingIngressConfined,
    disruptionBudgetsAllowDrain,
    modelRoutesAuthenticated,
    modelTenantsRateLimited,
    modelGatewayTls,
    dedicatedEndpointsOneTenant,
    batchQueuesBorrowOnly,
    privatelinkPrincipalsNamed,
    accessLogsExcludeCredentials,
    // Observability
    regionMonitoringInPlace,
    logGroupsRetainedEncrypted,
    // Reliability and threat detection
    alertsReachAPerson,
    sloBurnAlertsMultiwindow,
    threatDetectionCoversNodes,
    // Data
    databaseEncryptedPrivate,
    databaseResilient,
    databaseManagedPassword,
    databaseMinorVersionFloats,
    // Billing
    billingCoversSales,
    sloCreditsMetered,
    // Keys, state and supply chain
    kmsKeyRotation,
    statefulResourcesProtected,
    helmReleasesPinned,
    // First deploy: the rehearsal of a first `up` against the installed systems' upstream facts
    ...REHEARSAL_POLICIES,
];

/** The policies that judge dates (Capacity Block windows, prices in force): `npm run plan -- --at` sets their config. */
export { capacityBlockQuotaWithinWindow, billingCoversSales };

export const PACK_NAME = "compute-region";
/** Kept equal to policies/package.json's version (a test checks). */
export const PACK_VERSION = "0.1.0";

