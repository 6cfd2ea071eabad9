// The reverse proxy in front of the service: Caddy (with this project's `slot` modules,
// tools/proxy) as a docker.Container, pinned by digest, on host networking, its admin API on
// loopback. The switch (switch-proxy.sh) sets its upstream through the admin API; the upstream
// survives a restart of the container.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { childOpts } from "./options";
import { proxyConfig, ProxyConfigArgs } from "./proxyConfig";

export interface ProxyArgs extends ProxyConfigArgs {
    /** Container name. */
    readonly name: string;
    /** The proxy's image, repo@sha256:.... */
    readonly image: string;
    /** Seconds the proxy has to finish in-flight requests when it is stopped. */
    readonly drainSeconds: number;
    /** The stack's Docker host. */
    readonly provider: docker.Provider;
}

export class Proxy extends pulumi.ComponentResource {
    /** The proxy container's id: a new one means the switch must set the upstream again. */
    public readonly containerId: pulumi.Output<string>;

    constructor(name: string, args: ProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-server:release:Proxy", name, {}, opts);
        const image = new docker.RemoteImage(`${name}-image`, { name: args.image, keepLocally: true }, { ...childOpts(this, opts), provider: args.provider });
        const container = new docker.Container(`${name}-container`, {
            name: args.name,
            image: image.repoDigest,
            networkMode: "host",
            restart: "unless-stopped",
            command: ["caddy", "run", "--config", "/config/proxy.json"],
            uploads: [{ file: "/config/proxy.json", content: proxyConfig(args) }],
            labels: [{ label: "release.role", value: "proxy" }],
            destroyGraceSeconds: args.drainSeconds,
        }, { ...childOpts(this, opts), provider: args.provider });
        this.containerId = container.id;
        this.registerOutputs({ containerId: this.containerId });
    }
}
