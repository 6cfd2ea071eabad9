// The running service: the release image, pulled beforehand by ReleaseImage, run as a container on host networking.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { BASH, lastJsonLine, scriptFile, withDockerHost } from "./shell";
import { childOpts } from "./options";

/** The container switch: components/scripts/switch.sh. */
export function switchScript(): string {
    return scriptFile("switch.sh", "container-lib.sh");
}

/** The switch behind the reverse proxy: components/scripts/switch-proxy.sh. */
export function switchProxyScript(): string {
    return scriptFile("switch-proxy.sh", "container-lib.sh", "proxy-lib.sh");
}

/** The container removal on delete: components/scripts/remove.sh. */
export function removeScript(): string {
    return scriptFile("remove.sh");
}

export interface AppServiceArgs {
    /** The release image, repo@sha256:.... */
    readonly imageRef: pulumi.Input<string>;
    /** Container name. */
    readonly name: pulumi.Input<string>;
    /** Port the app listens on (host networking). */
    readonly port: pulumi.Input<number>;
    /** Address the health check reaches the app on. */
    readonly appHost: pulumi.Input<string>;
    /** Health endpoint path. */
    readonly healthPath: pulumi.Input<string>;
    /** Seconds a new container has to answer its health check. */
    readonly healthTimeoutSeconds: pulumi.Input<number>;
    /** Release version, git SHA and digest, written as container labels. */
    readonly labels: { version: pulumi.Input<string>; gitSha: pulumi.Input<string>; digest: pulumi.Input<string> };
    /** Environment of the app (values may be secrets). */
    readonly env: Record<string, pulumi.Input<string>>;
    /** Docker engine address; empty inherits DOCKER_HOST. */
    readonly dockerHost: string;
    /** The release identity: the container is replaced whenever it changes. */
    readonly triggers: pulumi.Input<pulumi.Input<string>[]>;
    /** Behind a reverse proxy: the slot ports and the proxy's admin API. */
    readonly proxy?: {
        readonly slotPorts: readonly [number, number];
        readonly admin: string;
        readonly drainSeconds: number;
        /** The proxy's container, when its admin API is reached through docker exec (a listed host). */
        readonly container?: string;
    };
}

/** The service container, pinned by digest. */
export class AppService extends pulumi.ComponentResource {
    /** The image reference that runs. */
    public readonly imageRef: pulumi.Output<string>;
    /** When the running container was started (UTC, ISO 8601). */
    public readonly startedAt: pulumi.Output<string>;
    /** The docker container id. */
    public readonly containerId: pulumi.Output<string>;
    /** The docker container name (behind a proxy, <name>-<slot port>). */
    public readonly containerName: pulumi.Output<string>;
    /** The port the running container listens on (behind a proxy, its slot port). */
    public readonly port: pulumi.Output<number>;

    constructor(name: string, args: AppServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-server:release:AppService", name, {}, opts);
        this.imageRef = pulumi.output(args.imageRef);
        const env: Record<string, pulumi.Input<string>> = {
            ...args.env,
            IMAGE_REF: args.imageRef,
            NAME: args.name,
            PORT: pulumi.output(args.port).apply(String),
            APP_HOST: args.appHost,
            HEALTH_PATH: args.healthPath,
            HEALTH_TIMEOUT: pulumi.output(args.healthTimeoutSeconds).apply(String),
            RELEASE_VERSION: args.labels.version,
            RELEASE_GIT_SHA: args.labels.gitSha,
            RELEASE_DIGEST: args.labels.digest,
            APP_ENV_KEYS: Object.keys(args.env).sort().join(" "),
            ...(args.proxy ? {
                SLOT_PORTS: args.proxy.slotPorts.join(" "),
                PROXY_ADMIN: args.proxy.admin,
                DRAIN_SECONDS: String(args.proxy.drainSeconds),
                ...(args.proxy.container ? { PROXY_CONTAINER: args.proxy.container } : {}),
            } : {}),
        };
        const cmd = new command.local.Command(`${name}-container`, {
            interpreter: BASH,
            create: args.proxy ? switchProxyScript() : switchScript(),
            delete: removeScript(),
            environment: withDockerHost(env, args.dockerHost),
            triggers: args.triggers,
        }, childOpts(this, opts));
        const result = cmd.stdout.apply(out => lastJsonLine<{ containerId: string; container: string; port: number; startedAt: string }>(out));
        this.containerId = result.containerId;
        this.containerName = result.container;
        this.port = result.port;
        this.startedAt = result.startedAt;
        this.registerOutputs({ imageRef: this.imageRef, containerId: this.containerId, containerName: this.containerName, port: this.port, startedAt: this.startedAt });
    }
}
