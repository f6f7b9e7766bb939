/**
 * Whether an IAM policy document explicitly denies a request: the one question the tenant-role
 * policies ask of a permissions boundary. An explicit Deny is what protects this account's resources
 * from a role even where a resource policy (a key policy that delegates to the account's IAM) would
 * grant access, so only Deny statements are judged here.
 *
 * Written here rather than taken from a library: the only maintained IAM simulator on npm
 * (@cloud-copilot/iam-simulate) is AGPL-3.0 and brings 19 MB of service data, for a question this narrow.
 * It evaluates Action/NotAction, Resource/NotResource and the condition operators a boundary needs
 * (String*, Arn*, Null, each with IfExists); a statement it cannot evaluate (another operator, a
 * set operator, a policy variable) is taken as not denying, so a finding errs towards "not proven".
 */

/** A request as IAM evaluates it: an action on a resource, with the context keys it carries. */
export interface IamRequest {
    action: string;
    resource: string;
    /** Context keys present in the request (`aws:ResourceAccount`, `aws:ResourceTag/<key>`); absent keys are missing. */
    context: Record<string, string>;
}

type Json = Record<string, unknown>;

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** IAM's wildcard match: `*` any run of characters, `?` any one. */
function globMatches(pattern: string, value: string, ignoreCase: boolean): boolean {
    const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    return new RegExp(`^${escaped}$`, ignoreCase ? "is" : "s").test(value);
}

function anyMatches(patterns: unknown[], value: string, ignoreCase: boolean): boolean | undefined {
    if (patterns.some((p) => typeof p !== "string")) return undefined;
    return (patterns as string[]).some((p) => globMatches(p, value, ignoreCase));
}

/** A condition block's verdict for a request, or undefined when it uses what this evaluator does not read. */
function conditionsMatch(condition: unknown, context: Record<string, string>): boolean | undefined {
    if (condition === undefined) return true;
    if (typeof condition !== "object" || condition === null || Array.isArray(condition)) return undefined;
    const keys = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
    for (const [operatorText, block] of Object.entries(condition as Json)) {
        if (typeof block !== "object" || block === null || Array.isArray(block)) return undefined;
        if (/^For(Any|All)Value:/.test(operatorText)) return undefined;
        const ifExists = operatorText.endsWith("IfExists");
        const operator = ifExists ? operatorText.slice(0, -"IfExists".length) : operatorText;
        for (const [key, expected] of Object.entries(block as Json)) {
            const values = list(expected);
            if (values.some((v) => typeof v !== "string" && typeof v !== "boolean") || values.some((v) => String(v).includes("${"))) return undefined;
            const wanted = values.map(String);
            const actual = keys.get(key.toLowerCase());
            if (operator === "Null") {
                if (wanted.length !== 1) return undefined;
                if ((actual === undefined) !== (wanted[0] === "true")) return false;
                continue;
            }
            if (actual === undefined) {
                // A missing key satisfies only the negated operators (and IfExists ones).
                if (ifExists || /Not/.test(operator)) continue;
                return false;
            }
            let hit: boolean;
            switch (operator) {
                case "StringEquals":
                case "ArnEquals":
                    hit = wanted.includes(actual);
                    break;
                case "StringNotEquals":
                case "ArnNotEquals":
                    hit = !wanted.includes(actual);
                    break;
                case "StringEqualsIgnoreCase":
                    hit = wanted.some((w) => w.toLowerCase() === actual.toLowerCase());
                    break;
                case "StringNotEqualsIgnoreCase":
                    hit = !wanted.some((w) => w.toLowerCase() === actual.toLowerCase());
                    break;
                case "StringLike":
                case "ArnLike":
                    hit = wanted.some((w) => globMatches(w, actual, false));
                    break;
                case "StringNotLike":
                case "ArnNotLike":
                    hit = !wanted.some((w) => globMatches(w, actual, false));
                    break;
                default:
                    return undefined;
            }
            if (!hit) return false;
        }
    }
    return true;
}

/** The statements of a policy document (a JSON string or an object), or undefined when it is not one. */
export function policyStatements(document: unknown): Json[] | undefined {
    let doc = document;
    if (typeof doc === "string") {
        try {
            doc = JSON.parse(doc);
        } catch {
            return undefined;
        }
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return undefined;
    return list((doc as Json).Statement).filter((s): s is Json => typeof s === "object" && s !== null && !Array.isArray(s));
}

/** Whether a statement applies to a request; undefined when it cannot be evaluated here. */
function statementMatches(statement: Json, request: IamRequest): boolean | undefined {
    const action = statement.Action !== undefined ? anyMatches(list(statement.Action), request.action, true) : statement.NotAction !== undefined ? negate(anyMatches(list(statement.NotAction), request.action, true)) : false;
    const resource = statement.Resource !== undefined ? anyMatches(list(statement.Resource), request.resource, false) : statement.NotResource !== undefined ? negate(anyMatches(list(statement.NotResource), request.resource, false)) : false;
    if (action === undefined || resource === undefined) return undefined;
    if (!action || !resource) return false;
    return conditionsMatch(statement.Condition, request.context);
}

const negate = (v: boolean | undefined) => (v === undefined ? undefined : !v);

/** The Sid (or index) of a Deny statement of `document` that denies `request`, or undefined when none provably does. */
export function denyingStatement(document: unknown, request: IamRequest): string | undefined {
    const statements = policyStatements(document) ?? [];
    const i = statements.findIndex((s) => s.Effect === "Deny" && statementMatches(s, request) === true);
    return i < 0 ? undefined : typeof statements[i].Sid === "string" ? (statements[i].Sid as string) : `Statement[${i}]`;
}
