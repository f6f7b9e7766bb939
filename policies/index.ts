// The CrossGuard policy pack. Constructing a PolicyPack starts a gRPC server (and exits the process
// on a bad pack), so this file only constructs it: nothing else imports it. Everything else (the
// evaluator, the CLI, the tests, the catalog) reads the policy list from ./rules.
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./rules";

new PolicyPack(PACK_NAME, { policies, enforcementLevel: "advisory" });
