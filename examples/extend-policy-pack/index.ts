// The pack's server entry (package.json main): `pulumi preview --policy-pack <this directory>` loads
// it. Constructing the PolicyPack starts CrossGuard's analyzer, so nothing else imports this file;
// the policy list lives in policies.ts.
import { PolicyPack } from "@pulumi/policy";
import { labPolicies } from "./policies";

new PolicyPack("gpu-lab", { policies: labPolicies, enforcementLevel: "advisory" });
