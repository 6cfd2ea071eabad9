import * as pulumi from "@pulumi/pulumi";

/**
 * Options for a component's children: parented to the component and carrying
 * its explicit dependencies. Pulumi does not pass a component's `dependsOn`
 * on to its children, and the engine orders steps by each resource's own
 * dependencies, so without this the order would be implicit.
 */
export function childOpts(parent: pulumi.Resource, opts?: pulumi.ComponentResourceOptions): pulumi.CustomResourceOptions {
    return opts?.dependsOn ? { parent, dependsOn: opts.dependsOn } : { parent };
}
