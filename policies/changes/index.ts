import type { ChangePolicy } from "../engine/change";
import { billingHistoryKept } from "./billing-history-kept";
import { billingPriceNotRetroactive } from "./billing-price-not-retroactive";
import { billingStorageNotShrunk } from "./billing-storage-not-shrunk";
import { dedicatedEndpointKeptWhileActive } from "./dedicated-endpoint-kept-while-active";
import { privatelinkPrincipalKeptUntilOffboarded } from "./privatelink-principal-kept-until-offboarded";
import { foundationNotReplaced } from "./foundation-not-replaced";
import { kubernetesUpgradeOneMinor } from "./kubernetes-upgrade-one-minor";
import { kubernetesVersionSkew } from "./kubernetes-version-skew";
import { sharedPoolKeepsSoldCapacity } from "./shared-pool-keeps-sold-capacity";
import { tenantApiKeyRotation } from "./tenant-api-key-rotation";
import { tenantOffboardedInOrder } from "./tenant-offboarded-in-order";
import { tenantQuotaKept } from "./tenant-quota-kept";

/**
 * The pack's change policies, in catalog order. CrossGuard has no hook for transitions: they run in
 * the offline plan against a state or an earlier plan, and in the pull-request workflow.
 */
export const changePolicies: ChangePolicy[] = [
    // Tenants
    tenantOffboardedInOrder,
    tenantQuotaKept,
    tenantApiKeyRotation,
    // Hosted models
    dedicatedEndpointKeptWhileActive,
    privatelinkPrincipalKeptUntilOffboarded,
    // Capacity
    sharedPoolKeepsSoldCapacity,
    // Cluster
    kubernetesUpgradeOneMinor,
    kubernetesVersionSkew,
    // Foundations and data
    foundationNotReplaced,
    billingStorageNotShrunk,
    // Billing
    billingPriceNotRetroactive,
    billingHistoryKept,
];

export { billingPriceNotRetroactive, billingHistoryKept };
