// The CrossGuard policy pack's server entry (package.json `main`, which is what `pulumi preview
// --policy-pack <dir>` loads). Constructing a PolicyPack starts a gRPC server (and exits the process
// on a bad pack), so this file only constructs it and nothing imports it. Everything else (the
// library entry `index.ts`, the evaluator, the CLI, the tests, the catalog, packs that extend this
// one) reads the policy list from ./rules.
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./rules";

new PolicyPack(PACK_NAME, { policies, enforcementLevel: "advisory" });
