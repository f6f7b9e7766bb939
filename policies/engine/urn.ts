import type { AliasSpec } from "./snapshot";

/**
 * URNs as the engine builds and reads them (pulumi/pulumi v3.248.0, sdk/go/common/resource/urn/urn.go
 * `New`, and resource/alias.go `CreateURN`): `urn:pulumi:<stack>::<project>::<type chain>::<name>`,
 * where the type chain is the parent's chain, `$`, and the type; the root stack is left out.
 */

/** The root stack resource's type: the engine leaves it out of its children's type chains. */
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

const PREFIX = "urn:pulumi:";

export interface UrnParts {
    stack: string;
    project: string;
    /** The type chain, `parent$child`. */
    qualifiedType: string;
    /** The resource's own type, the last of the chain. */
    type: string;
    name: string;
}

/** The parts of a URN, or undefined when it is not one. */
export function parseUrn(urn: string): UrnParts | undefined {
    if (!urn.startsWith(PREFIX)) return undefined;
    const parts = urn.slice(PREFIX.length).split("::");
    if (parts.length < 4) return undefined;
    const [stack, project, qualifiedType, ...name] = parts;
    return { stack, project, qualifiedType, type: qualifiedType.slice(qualifiedType.lastIndexOf("$") + 1), name: name.join("::") };
}

/** A resource's URN from its parent's (`New` in the engine). */
export function childUrn(stack: string, project: string, parentUrn: string | undefined, type: string, name: string): string {
    const parentType = parentUrn ? parseUrn(parentUrn)?.qualifiedType : undefined;
    const qualified = parentType && parentType !== ROOT_STACK_TYPE ? `${parentType}$${type}` : type;
    return `${PREFIX}${stack}::${project}::${qualified}::${name}`;
}

/**
 * The URN an alias stands for (`collapseAliasToUrn` in pkg/resource/deploy/step_generator.go): the
 * parts it does not give are the resource's own; a parent that was itself found under an alias
 * contributes that former URN. `CreateURN` takes the stack and project from the parent when there is one.
 */
export function aliasUrn(
    alias: AliasSpec,
    resource: { name: string; type: string; parent?: string },
    stack: string,
    project: string,
    formerUrnOf: (urn: string) => string | undefined = () => undefined,
): string {
    if ("urn" in alias) return alias.urn;
    const name = alias.name || resource.name;
    const type = alias.type || resource.type;
    let parent = alias.parentUrn ? (formerUrnOf(alias.parentUrn) ?? alias.parentUrn) : resource.parent;
    if (alias.noParent || (parent && parseUrn(parent)?.qualifiedType === ROOT_STACK_TYPE)) parent = undefined;
    if (!parent) return `${PREFIX}${alias.stack || stack}::${alias.project || project}::${type}::${name}`;
    return `${parent.slice(0, parent.lastIndexOf("::"))}$${type}::${name}`;
}

/**
 * The alias a child inherits from a parent found under an alias (`inheritedChildAlias` in
 * step_generator.go): a child named after its parent (`<parent>-suffix`) is renamed with it.
 */
export function inheritedChildAlias(childType: string, childName: string, parentName: string, parentFormerUrn: string, stack: string, project: string): string {
    const former = parseUrn(parentFormerUrn)?.name ?? parentName;
    const name = childName.startsWith(parentName) ? former + childName.slice(parentName.length) : childName;
    return childUrn(stack, project, parentFormerUrn, childType, name);
}
