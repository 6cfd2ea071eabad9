// The maintenance page (runbook 003 §3, steps 1 and 4): the proxy answers every public
// request but the health path with 503, the message and Retry-After. A command resource,
// so every toggle is a `pulumi up` in the stack's history.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { childOpts } from "./options";
import { BASH, lastJsonLine, scriptFile, withDockerHost } from "./shell";

/** The toggle: components/scripts/maintenance.sh. */
export function maintenanceScript(): string {
    return scriptFile("maintenance.sh", "proxy-lib.sh");
}

export interface MaintenanceArgs {
    readonly on: boolean;
    readonly message: string;
    /** host:port of the proxy's admin API. */
    readonly admin: string;
    /** The proxy container's id: a new proxy is set again. */
    readonly proxyContainerId: pulumi.Input<string>;
    /** On a listed host: the proxy's container and the host's Docker endpoint, for docker exec. */
    readonly via?: { readonly container: string; readonly dockerHost: string };
}

/** Sets the proxy's maintenance switch to the stack's config. */
export class Maintenance extends pulumi.ComponentResource {
    /** When the switch was last set (UTC). */
    public readonly at: pulumi.Output<string>;

    constructor(name: string, args: MaintenanceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-server:release:Maintenance", name, {}, opts);
        const state = args.on ? "on" : "off";
        const cmd = new command.local.Command(`${name}-switch`, {
            interpreter: BASH,
            create: maintenanceScript(),
            environment: withDockerHost({
                PROXY_ADMIN: args.admin, MAINTENANCE: state, MESSAGE: args.message,
                ...(args.via ? { PROXY_CONTAINER: args.via.container } : {}),
            }, args.via?.dockerHost ?? ""),
            triggers: pulumi.all([args.proxyContainerId]).apply(([id]) => [state, args.message, id]),
        }, childOpts(this, opts));
        this.at = cmd.stdout.apply(out => lastJsonLine<{ at: string }>(out).at);
        this.registerOutputs({ at: this.at });
    }
}
