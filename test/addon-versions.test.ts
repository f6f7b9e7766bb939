import { describe, expect, it } from "vitest";
import semver from "semver";
import { ADDON_VERSION_PINS, addonVersionPin, EKS_ADDONS, GUARDDUTY_AGENT } from "compute-region-policies/model";
import { pinnedAddonVersion } from "../components/eks-addon";
import { SUPPORTED_KUBERNETES_VERSIONS } from "../stacks/config";
import { planComponents } from "./helpers";
import * as pulumi from "@pulumi/pulumi";

/**
 * Every EKS add-on the region installs is pinned, for every Kubernetes minor the stack config accepts,
 * to a version read from a cited published table (policies/model/upstream/addon-versions.ts).
 */
describe("EKS add-on version pins", () => {
    const addons = Object.values(EKS_ADDONS);

    it.each(SUPPORTED_KUBERNETES_VERSIONS.map((v) => [v]))("Kubernetes %s has a pinned version of every add-on the region installs", (minor) => {
        const missing = addons.filter((a) => !addonVersionPin(a, minor));
        expect(missing, `no version pinned for Kubernetes ${minor}`).toEqual([]);
        for (const a of addons) expect(addonVersionPin(a, minor), `${a} ${minor}`).toMatch(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/);
        // A patch version reads its minor's row.
        expect(addonVersionPin(EKS_ADDONS.kubeProxy, `${minor}.7`)).toBe(addonVersionPin(EKS_ADDONS.kubeProxy, minor));
    });

    it("every table is cited, names an add-on the region installs, and kube-proxy's builds are of their own minor", () => {
        for (const table of ADDON_VERSION_PINS) {
            expect(addons, table.addon).toContain(table.addon);
            const cited = "url" in table.source ? /^https:\/\//.test(table.source.url) : /^[0-9a-f]{40}$|^v?\d/.test(table.source.ref) && table.source.file.length > 0;
            expect(cited, `${table.addon}: ${JSON.stringify(table.source)}`).toBe(true);
        }
        expect(new Set(ADDON_VERSION_PINS.map((t) => t.addon)).size).toBe(ADDON_VERSION_PINS.length);
        // kube-proxy must not be newer than the control plane (version skew policy): each row is of its minor.
        for (const minor of SUPPORTED_KUBERNETES_VERSIONS) expect(addonVersionPin(EKS_ADDONS.kubeProxy, minor)).toMatch(new RegExp(`^v${minor.replace(".", "\\.")}\\.`));
    });

    it("pins the GuardDuty agent at or above the build its configuration schema needs, on every minor", () => {
        const minimum = semver.coerce(GUARDDUTY_AGENT.configuration.minimumAddonVersion)!;
        for (const minor of SUPPORTED_KUBERNETES_VERSIONS) {
            const pinned = semver.coerce(addonVersionPin(EKS_ADDONS.guardDutyAgent, minor))!;
            expect(semver.gte(pinned, minimum), `${minor}: ${pinned} against ${minimum}`).toBe(true);
        }
    });

    it("a minor with no row is an error naming the table, not an unpinned add-on", async () => {
        expect(addonVersionPin(EKS_ADDONS.vpcCni, "1.36")).toBeUndefined();
        await expect(
            planComponents(() => {
                const owner = new pulumi.ComponentResource("test:index:Owner", "owner");
                pinnedAddonVersion(EKS_ADDONS.vpcCni, "1.36", owner);
            }),
        ).rejects.toThrow(/add-on vpc-cni: no version is pinned for Kubernetes 1\.36: add its row to ADDON_VERSION_PINS/);
    });
});
