import { changePolicy, isModified } from "../engine/change";
import { LABELS, NAMESPACES, apiKeySecretName } from "../model/domain/conventions";
import { K8S_TYPES } from "../model/domain/types";
import { changeSamples as s } from "../samples/changes";

const isKeyData = (path: string) => /^(stringData|data)\b/.test(path);

export const tenantApiKeyRotation = changePolicy({
    name: "tenant-api-key-rotation",
    description: "A change that rotates a tenant's gateway API key is called out: the old key stops working when the update applies.",
    rationale:
        "Bumping tenants[].apiKeyVersion generates a new key; the gateway's Secret is replaced and the old key is refused from that moment. " +
        "The tenant must fetch the new key from Secrets Manager, so the rotation should be announced to it, not discovered through failed calls.",
    severity: "medium",
    enforcementLevel: "advisory",
    remediationSteps: "Tell the tenant when the change deploys and where the new key is (its Secrets Manager secret compute-region/<cluster>/gateway/<tenant>).",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "IA-5", title: "Authenticator Management" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.1", title: "Logical access security: credentials are managed" },
    ],
    validateChanges: (args, report) => {
        for (const c of args.changes) {
            if (c.type !== K8S_TYPES.secret || !isModified(c)) continue;
            const meta = c.new.props.metadata ?? {};
            const tenant = meta.labels?.[LABELS.tenant];
            if (!tenant || meta.namespace !== NAMESPACES.gateway || meta.name !== apiKeySecretName(tenant)) continue;
            if (c.diffs.some(isKeyData)) report(`tenant ${tenant}'s API key is rotated: the old key stops working when the update applies.`, c.urn);
        }
    },
    samples: {
        allowed: [
            { description: "A tenant is granted another model: the Secret's annotation changes, not the key.", old: [s.apiKeySecret("acme", "crk-1", ["llama-3-8b"])], new: [s.apiKeySecret("acme", "crk-1", ["llama-3-8b", "qwen-2-5-32b"])] },
            { description: "A new tenant's first key.", old: [], new: [s.apiKeySecret("acme", "crk-1", ["llama-3-8b"])] },
        ],
        disallowed: [{ description: "The key is rotated.", expect: "tenant acme's API key is rotated: the old key stops working when the update applies", old: [s.apiKeySecret("acme", "crk-1", ["llama-3-8b"])], new: [s.apiKeySecret("acme", "crk-2", ["llama-3-8b"])] }],
    },
});
