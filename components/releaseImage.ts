// The release image on the Docker host, pulled by digest through @pulumi/docker before
// anything else in the release runs: a host that cannot pull fails the update before the
// backup, and so before any schema change.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { childOpts } from "./options";

export interface ReleaseImageArgs {
    /** The release image, repo@sha256:.... */
    readonly imageRef: pulumi.Input<string>;
    /** The stack's Docker host. */
    readonly provider: docker.Provider;
}

/** docker.RemoteImage of the release, on the stack's Docker host. */
export class ReleaseImage extends pulumi.ComponentResource {
    /** The repo digest the host holds (repo@sha256:...). */
    public readonly repoDigest: pulumi.Output<string>;
    /** The local image id (sha256:...). */
    public readonly imageId: pulumi.Output<string>;

    constructor(name: string, args: ReleaseImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-server:release:ReleaseImage", name, {}, opts);
        // keepLocally: a later release replaces this resource; the old image stays on the
        // host, so a rollback to it needs no registry.
        const image = new docker.RemoteImage(`${name}-pull`, { name: args.imageRef, keepLocally: true }, { ...childOpts(this, opts), provider: args.provider });
        this.repoDigest = image.repoDigest;
        this.imageId = image.imageId;
        this.registerOutputs({ repoDigest: this.repoDigest, imageId: this.imageId });
    }
}
