import { TENANT_BILLING_DB } from "../domain/tenant-billing";

/**
 * What a schema's SQL migrations grant and protect, read from their text in order, for the policy
 * that holds tenants to their own billing rows (tenant-billing-rows-scoped): the tables (their
 * columns, foreign keys, row-level security), the views (whose rights they run with, what they
 * read), the functions (SECURITY DEFINER, executable by PUBLIC), the grants to roles and the
 * row-level security policies.
 *
 * A reader of these statement forms rather than PostgreSQL's parser (libpg-query): the parser is
 * WebAssembly loaded asynchronously, and policies here are evaluated synchronously. It reads the
 * top-level statements and the plain statements of DO blocks; SQL built at run time (EXECUTE in a
 * function) is not read, so the migrations' tests compare what this reads with the catalog of a real
 * PostgreSQL after migrating (test/tenant-billing.test.ts). Functions are known by name
 * (overloads are one function).
 */

export interface SqlTable {
    columns: Set<string>;
    /** Tables its foreign keys reference. */
    references: Set<string>;
    rowLevelSecurity: boolean;
}

export interface SqlView {
    securityInvoker: boolean;
    /** Relations its query reads (FROM and JOIN). */
    reads: Set<string>;
}

export interface SqlFunction {
    securityDefiner: boolean;
    /** PUBLIC may execute it (PostgreSQL's default, unless default privileges or a REVOKE say otherwise). */
    publicExecute: boolean;
}

export interface SqlPolicy {
    name: string;
    table: string;
    command: string;
    /** Roles it applies to (PUBLIC when none are named). */
    roles: string[];
    using?: string;
    withCheck?: string;
}

export interface SqlGrant {
    /** SELECT, INSERT, ..., EXECUTE, USAGE, ALL, or MEMBER (a role granted to a role). */
    privilege: string;
    kind: "relation" | "function" | "schema" | "role";
    object: string;
    grantee: string;
    /** Where it was granted: `file: statement`. */
    at: string;
}

export interface SqlFacts {
    tables: Map<string, SqlTable>;
    views: Map<string, SqlView>;
    functions: Map<string, SqlFunction>;
    policies: SqlPolicy[];
    grants: SqlGrant[];
}

/** An identifier as PostgreSQL folds it: quoted kept, unquoted lowercased, `public.` dropped. */
export function sqlName(raw: string): string {
    const parts = raw.trim().match(/"(?:[^"]|"")*"|[^.]+/g) ?? [raw];
    const folded = parts.map((p) => (p.startsWith('"') ? p.slice(1, -1).replace(/""/g, '"') : p.trim().toLowerCase()));
    return folded[0] === "public" && folded.length > 1 ? folded.slice(1).join(".") : folded.join(".");
}

/**
 * Splits SQL into statements where PostgreSQL would: at semicolons outside quotes, dollar quotes and
 * comments. Comments are dropped, whitespace collapsed; each statement keeps its dollar-quoted bodies
 * (`body`) apart from its text, where they read `$$`.
 */
export function sqlStatements(sql: string): { text: string; bodies: string[] }[] {
    const out: { text: string; bodies: string[] }[] = [];
    let text = "";
    let bodies: string[] = [];
    let i = 0;
    const flush = () => {
        const t = text.replace(/\s+/g, " ").trim();
        if (t) out.push({ text: t, bodies });
        text = "";
        bodies = [];
    };
    while (i < sql.length) {
        const c = sql[i];
        const rest = sql.slice(i);
        if (rest.startsWith("--")) {
            const end = sql.indexOf("\n", i);
            i = end < 0 ? sql.length : end;
            text += " ";
        } else if (rest.startsWith("/*")) {
            let depth = 0;
            do {
                if (sql.startsWith("/*", i)) (depth++, (i += 2));
                else if (sql.startsWith("*/", i)) (depth--, (i += 2));
                else i++;
            } while (depth > 0 && i < sql.length);
            text += " ";
        } else if (c === "'" || c === '"') {
            let j = i + 1;
            while (j < sql.length && !(sql[j] === c && sql[j + 1] !== c)) j += sql[j] === c ? 2 : 1;
            text += sql.slice(i, j + 1);
            i = j + 1;
        } else if (c === "$" && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(rest)) {
            const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(rest)![0];
            const end = sql.indexOf(tag, i + tag.length);
            const stop = end < 0 ? sql.length : end;
            bodies.push(sql.slice(i + tag.length, stop));
            text += "$$";
            i = stop + tag.length;
        } else if (c === ";") {
            flush();
            i++;
        } else {
            text += c;
            i++;
        }
    }
    flush();
    return out;
}

/** Splits at commas outside parentheses and quotes. */
function splitTop(list: string): string[] {
    const parts: string[] = [];
    let depth = 0;
    let cur = "";
    let quote: string | undefined;
    for (const ch of list) {
        if (quote) {
            if (ch === quote) quote = undefined;
        } else if (ch === "'" || ch === '"') quote = ch;
        else if (ch === "(") depth++;
        else if (ch === ")") depth--;
        else if (ch === "," && depth === 0) {
            parts.push(cur.trim());
            cur = "";
            continue;
        }
        cur += ch;
    }
    if (cur.trim()) parts.push(cur.trim());
    return parts;
}

/** The balanced parenthesised text starting at `open` (the index of its "("), without the parentheses. */
function parenthesised(text: string, open: number): string {
    let depth = 0;
    for (let i = open; i < text.length; i++) {
        if (text[i] === "(") depth++;
        else if (text[i] === ")" && --depth === 0) return text.slice(open + 1, i);
    }
    return text.slice(open + 1);
}

const functionName = (signature: string) => sqlName(signature.replace(/\(.*$/, ""));
const roleNames = (list: string) => splitTop(list).map((r) => (/^public$/i.test(r) ? "PUBLIC" : /^current_user$/i.test(r) ? "CURRENT_USER" : sqlName(r)));

/** The plain statements of a DO block's body (its GRANTs, ALTERs, CREATE POLICYs), control keywords stripped. */
function doBlockStatements(body: string): { text: string; bodies: string[] }[] {
    const CONTROL = /^(?:DECLARE\b.*?\bBEGIN|BEGIN|ELSE|END IF|END LOOP|END|LOOP|IF\b.*?\bTHEN|ELSIF\b.*?\bTHEN)\s+/i;
    return sqlStatements(body).map((s) => {
        let t = s.text;
        for (let prev = ""; prev !== t; ) {
            prev = t;
            t = t.replace(CONTROL, "");
        }
        return { text: t, bodies: s.bodies };
    });
}

/** Reads migrations in order (`file` names each in findings). */
export function readSqlFacts(migrations: readonly { file: string; sql: string }[]): SqlFacts {
    const facts: SqlFacts = { tables: new Map(), views: new Map(), functions: new Map(), policies: [], grants: [] };
    let defaultNoPublicExecute = false;
    const relationsIn = (schema: string) =>
        [...facts.tables.keys(), ...facts.views.keys()].filter((n) => (schema === "public" ? !n.includes(".") : n.startsWith(`${schema}.`)));
    const objectsOf = (kind: string | undefined, list: string): { kind: SqlGrant["kind"]; names: string[] } => {
        const k = (kind ?? "TABLE").toUpperCase();
        if (k === "ALL TABLES IN SCHEMA") return { kind: "relation", names: splitTop(list).flatMap((s) => relationsIn(sqlName(s))) };
        if (k === "ALL FUNCTIONS IN SCHEMA") return { kind: "function", names: splitTop(list).flatMap((s) => [...facts.functions.keys()].filter((f) => (sqlName(s) === "public" ? !f.includes(".") : f.startsWith(`${sqlName(s)}.`)))) };
        if (k === "FUNCTION" || k === "ROUTINE" || k === "PROCEDURE") return { kind: "function", names: splitTop(list).map(functionName) };
        if (k === "SCHEMA") return { kind: "schema", names: splitTop(list).map(sqlName) };
        return { kind: "relation", names: splitTop(list).map(sqlName) };
    };
    const read = (file: string, stmt: { text: string; bodies: string[] }) => {
        const t = stmt.text;
        const at = `${file}: ${t.length > 120 ? `${t.slice(0, 117)}...` : t}`;
        let m: RegExpExecArray | null;
        if (/^DO\b/i.test(t)) {
            for (const body of stmt.bodies) for (const inner of doBlockStatements(body)) read(file, inner);
        } else if ((m = /^CREATE (?:UNLOGGED )?TABLE (?:IF NOT EXISTS )?(\S+) \(/i.exec(t))) {
            const table: SqlTable = { columns: new Set(), references: new Set(), rowLevelSecurity: false };
            for (const item of splitTop(parenthesised(t, m[0].length - 1))) {
                const first = item.split(" ")[0];
                if (!/^(CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN|EXCLUDE|LIKE)$/i.test(first)) table.columns.add(sqlName(first));
                for (const ref of item.matchAll(/\bREFERENCES (\S+?)(?: ?\(|$| )/gi)) table.references.add(sqlName(ref[1]));
            }
            facts.tables.set(sqlName(m[1]), table);
        } else if ((m = /^ALTER TABLE (?:IF EXISTS )?(?:ONLY )?(\S+) (.*)$/i.exec(t))) {
            const table = facts.tables.get(sqlName(m[1]));
            if (!table) return;
            for (const action of splitTop(m[2])) {
                let a: RegExpExecArray | null;
                if ((a = /^ADD (?:COLUMN )?(?:IF NOT EXISTS )?(\S+)/i.exec(action)) && !/^ADD (CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN|EXCLUDE)\b/i.test(action)) table.columns.add(sqlName(a[1]));
                for (const ref of action.matchAll(/\bREFERENCES (\S+?)(?: ?\(|$| )/gi)) table.references.add(sqlName(ref[1]));
                if (/^(ENABLE|FORCE) ROW LEVEL SECURITY$/i.test(action)) table.rowLevelSecurity = true;
                if (/^DISABLE ROW LEVEL SECURITY$/i.test(action)) table.rowLevelSecurity = false;
            }
        } else if ((m = /^CREATE (?:OR REPLACE )?(?:TEMP(?:ORARY)? )?(?:RECURSIVE )?VIEW (\S+)(?: \(.*?\))?(?: WITH \((.*?)\))? AS (.*)$/i.exec(t))) {
            const reads = new Set([...m[3].matchAll(/\b(?:FROM|JOIN) ([A-Za-z_"][\w."]*)(?! ?\()/gi)].map((r) => sqlName(r[1])));
            facts.views.set(sqlName(m[1]), { securityInvoker: /\bsecurity_invoker\s*(=\s*(true|on|1))?\s*(,|$)/i.test(m[2] ?? ""), reads });
        } else if ((m = /^ALTER VIEW (?:IF EXISTS )?(\S+) SET \((.*)\)$/i.exec(t))) {
            const view = facts.views.get(sqlName(m[1]));
            const option = /\bsecurity_invoker\s*(?:=\s*(\w+))?/i.exec(m[2]);
            if (view && option) view.securityInvoker = !option[1] || /^(true|on|1)$/i.test(option[1]);
        } else if ((m = /^CREATE (?:OR REPLACE )?(?:FUNCTION|PROCEDURE) (\S+?) ?\(/i.exec(t))) {
            const name = functionName(m[1]);
            const existing = facts.functions.get(name);
            // CREATE OR REPLACE keeps the function's privileges.
            facts.functions.set(name, { securityDefiner: /\bSECURITY DEFINER\b/i.test(t), publicExecute: existing ? existing.publicExecute : !defaultNoPublicExecute });
        } else if (/^ALTER DEFAULT PRIVILEGES\b.* REVOKE EXECUTE ON (FUNCTIONS|ROUTINES) FROM PUBLIC$/i.test(t)) {
            defaultNoPublicExecute = true;
        } else if ((m = /^CREATE POLICY (\S+) ON (\S+)(.*)$/i.exec(t))) {
            const rest = m[3];
            const command = /\bFOR (ALL|SELECT|INSERT|UPDATE|DELETE)\b/i.exec(rest)?.[1]?.toUpperCase() ?? "ALL";
            const usingAt = rest.search(/\bUSING \(/i);
            const checkAt = rest.search(/\bWITH CHECK \(/i);
            const to = /\bTO (.+?)(?= USING \(| WITH CHECK \(|$)/i.exec(rest)?.[1];
            facts.policies.push({
                name: sqlName(m[1]),
                table: sqlName(m[2]),
                command,
                roles: to ? roleNames(to) : ["PUBLIC"],
                ...(usingAt >= 0 ? { using: parenthesised(rest, rest.indexOf("(", usingAt)) } : {}),
                ...(checkAt >= 0 ? { withCheck: parenthesised(rest, rest.indexOf("(", checkAt)) } : {}),
            });
        } else if ((m = /^GRANT (.+?) ON (?:(TABLE|SEQUENCE|FUNCTION|PROCEDURE|ROUTINE|SCHEMA|ALL TABLES IN SCHEMA|ALL FUNCTIONS IN SCHEMA) )?(.+?) TO (.+?)(?: WITH GRANT OPTION)?(?: GRANTED BY \S+)?$/i.exec(t))) {
            const { kind, names } = objectsOf(m[2], m[3]);
            const privileges = splitTop(m[1]).map((p) => p.replace(/\s*\(.*\)$/, "").toUpperCase().replace(/^ALL PRIVILEGES$/, "ALL"));
            for (const grantee of roleNames(m[4])) for (const object of names) for (const privilege of privileges) facts.grants.push({ privilege, kind, object, grantee, at });
            if (kind === "function" && roleNames(m[4]).includes("PUBLIC")) for (const n of names) if (facts.functions.has(n)) facts.functions.get(n)!.publicExecute = true;
        } else if ((m = /^GRANT ([^()]+?) TO (.+?)(?: WITH (?:ADMIN|INHERIT|SET) .*)?$/i.exec(t)) && !/ ON /i.test(m[1])) {
            for (const grantee of roleNames(m[2])) for (const role of roleNames(m[1])) facts.grants.push({ privilege: "MEMBER", kind: "role", object: role, grantee, at });
        } else if ((m = /^REVOKE (?:GRANT OPTION FOR )?(.+?) ON (?:(TABLE|SEQUENCE|FUNCTION|PROCEDURE|ROUTINE|SCHEMA|ALL TABLES IN SCHEMA|ALL FUNCTIONS IN SCHEMA) )?(.+?) FROM (.+?)(?: CASCADE| RESTRICT)?$/i.exec(t))) {
            const { kind, names } = objectsOf(m[2], m[3]);
            const privileges = splitTop(m[1]).map((p) => p.replace(/\s*\(.*\)$/, "").toUpperCase().replace(/^ALL PRIVILEGES$/, "ALL"));
            const from = roleNames(m[4]);
            facts.grants = facts.grants.filter((g) => !(g.kind === kind && names.includes(g.object) && from.includes(g.grantee) && (privileges.includes("ALL") || privileges.includes(g.privilege))));
            if (kind === "function" && from.includes("PUBLIC") && (privileges.includes("EXECUTE") || privileges.includes("ALL"))) for (const n of names) if (facts.functions.has(n)) facts.functions.get(n)!.publicExecute = false;
        } else if ((m = /^REVOKE ([^()]+?) FROM (.+?)(?: CASCADE| RESTRICT)?$/i.exec(t)) && !/ ON /i.test(m[1])) {
            const from = roleNames(m[2]);
            const roles = roleNames(m[1]);
            facts.grants = facts.grants.filter((g) => !(g.kind === "role" && roles.includes(g.object) && from.includes(g.grantee)));
        }
    };
    for (const { file, sql } of migrations) for (const stmt of sqlStatements(sql)) read(file, stmt);
    return facts;
}

/** Roles that stand for tenants: their group, a tenant's own role, and PUBLIC (every role, tenants' included). */
export function isTenantPrincipal(role: string): boolean {
    return role === TENANT_BILLING_DB.tenantGroup || role === "PUBLIC" || role.startsWith(TENANT_BILLING_DB.tenantRolePrefix);
}

/** Tables that hold tenants' rows: a tenant_id column, or a foreign key to such a table. */
export function tenantTables(facts: SqlFacts): Set<string> {
    const found = new Set([...facts.tables].filter(([, t]) => t.columns.has("tenant_id")).map(([n]) => n));
    for (let grew = true; grew; ) {
        grew = false;
        for (const [name, t] of facts.tables) {
            if (!found.has(name) && [...t.references].some((r) => found.has(r))) {
                found.add(name);
                grew = true;
            }
        }
    }
    return found;
}

/** A policy expression that holds rows to the current tenant: `tenant_id = billing_current_tenant()` (either way round). */
export function holdsToTenant(expression: string | undefined): boolean {
    if (!expression) return false;
    const fn = `(?:public\\.)?${TENANT_BILLING_DB.currentTenant}\\(\\)`;
    return new RegExp(`(?:\\b(?:\\w+\\.)?tenant_id\\s*=\\s*${fn})|(?:${fn}\\s*=\\s*(?:\\w+\\.)?tenant_id\\b)`, "i").test(expression);
}

const READS = new Set(["SELECT", "USAGE", "EXECUTE"]);

/** What the migrations let tenants' roles do beyond reading their own rows: each a sentence. */
export function tenantGrantFindings(facts: SqlFacts): string[] {
    const findings: string[] = [];
    const tenant = tenantTables(facts);
    // Views that read tenant rows, directly or through other views.
    const readsTenantRows = (name: string, seen = new Set<string>()): boolean => {
        if (tenant.has(name)) return true;
        const view = facts.views.get(name);
        if (!view || seen.has(name)) return false;
        seen.add(name);
        return [...view.reads].some((r) => readsTenantRows(r, seen));
    };
    const granted = facts.grants.filter((g) => isTenantPrincipal(g.grantee));
    for (const g of granted) {
        if (g.kind === "role") {
            findings.push(`${g.at}: makes ${g.grantee} a member of ${g.object}: tenants get that role's rights, beyond reading their own rows.`);
            continue;
        }
        if (!READS.has(g.privilege)) {
            findings.push(`${g.at}: grants ${g.privilege} on ${g.object} to ${g.grantee}: tenants' roles read, they never write.`);
            continue;
        }
        if (g.kind === "function" && facts.functions.get(g.object)?.securityDefiner) {
            findings.push(`${g.at}: lets ${g.grantee} execute ${g.object}, which runs with its owner's rights: row-level security does not hold tenants to their rows inside it.`);
        }
        if (g.kind !== "relation" || g.privilege !== "SELECT") continue;
        const table = facts.tables.get(g.object);
        if (table && tenant.has(g.object)) {
            if (!table.rowLevelSecurity) {
                findings.push(`${g.at}: lets ${g.grantee} read ${g.object}, which holds every tenant's rows and has no row-level security.`);
                continue;
            }
            for (const p of facts.policies.filter((p) => p.table === g.object && (p.command === "ALL" || p.command === "SELECT") && p.roles.some(isTenantPrincipal))) {
                if (!holdsToTenant(p.using)) findings.push(`row-level security policy ${p.name} on ${g.object} applies to ${p.roles.filter(isTenantPrincipal).join(", ")} with USING (${p.using ?? "no expression"}): it does not hold a tenant to rows where tenant_id = ${TENANT_BILLING_DB.currentTenant}().`);
            }
        }
        const view = facts.views.get(g.object);
        if (view && !view.securityInvoker && readsTenantRows(g.object)) {
            findings.push(`${g.at}: lets ${g.grantee} read the view ${g.object}, which reads tenants' rows with its owner's rights (no security_invoker): row-level security does not hold tenants to their rows there.`);
        }
    }
    for (const [name, f] of facts.functions) {
        if (f.securityDefiner && f.publicExecute) findings.push(`function ${name} runs with its owner's rights and PUBLIC may execute it (PostgreSQL's default): revoke EXECUTE from PUBLIC and grant it to the role that needs it.`);
    }
    return [...new Set(findings)];
}
