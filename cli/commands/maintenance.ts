// deployctl maintenance: switches the proxy's maintenance page on or off with a pulumi up.
import { Command } from "commander";
import { checkSettingValue } from "../../components/config";
import { checkNotLocked, flag, ns, openStack, pj, RefusedError, requireStack, stackOption, UsageError } from "../common";
import { servingVersion, stackSettings } from "../live";
import { Notifier, releaseImages, webhookOf } from "../notify";
import { apply, ConfigSnapshot, UpdateFailed } from "../update";
import { stackConfigFile } from "../workspace";

interface MaintenanceOptions {
    stack?: string; message?: string; preview?: boolean;
}

export function registerMaintenance(program: Command): void {
    program.command("maintenance")
        .summary("switch the proxy's maintenance page on or off")
        .usage("<on|off> --stack S [--message TEXT] [--preview]")
        .description(`Switches the proxy's maintenance page on or off with a pulumi up, so every toggle is in the stack's history.
While on, every public request but the health path gets 503, the message and Retry-After.`)
        // Optional here so that a missing state gets this command's own message (checked in cmdMaintenance).
        .argument("[on|off]", "the state to switch to")
        .addOption(stackOption())
        .addOption(flag("--message <TEXT>", "the maintenance page's message (with on; one line, 1-500 characters)"))
        .addOption(flag("--preview", "show what would change, change nothing"))
        .addHelpText("after", `\nexample: deployctl maintenance on --stack prod --message "Upgrading the database; back at 02:30 UTC"`)
        .action((state: string | undefined, opts: MaintenanceOptions) => cmdMaintenance(state, opts));
}

async function cmdMaintenance(state: string | undefined, v: MaintenanceOptions): Promise<void> {
    if (state !== "on" && state !== "off") throw new UsageError(`maintenance needs on or off${state === undefined ? "" : `, not ${JSON.stringify(state)}`}`);
    const message = v.message;
    const bad = message === undefined ? undefined : checkSettingValue("maintenanceMessage", message, "--message");
    if (bad) throw new UsageError(bad);
    if (message !== undefined && state === "off") throw new UsageError("--message goes with maintenance on");
    const stack = await openStack(requireStack(v));
    checkNotLocked(stack.name);
    const cfg = await stack.getAllConfig();
    const settings = await stackSettings(stack, cfg);
    const notifier = new Notifier(webhookOf(cfg));
    const version = cfg[ns("version")]?.value;
    if (!version) throw new RefusedError(`stack ${stack.name} has no release yet; deploy one first`);
    // Maintenance runs `pulumi up` on the whole config: a release config ahead of what serves
    // (written by deployctl cut without --deploy, or by hand) would be deployed by it, unchecked.
    const serving = await servingVersion(settings);
    if (serving !== undefined && serving !== version) {
        throw new RefusedError(`the stack's release config is ${version}, but ${serving} serves, so maintenance ${state} would deploy ${version}; deploy it first (deployctl deploy --stack ${stack.name}), or set the release: keys back to those of ${serving} (deployctl history --stack ${stack.name} --json); nothing was changed`);
    }
    if (Number(settings.get("proxyPort")) === 0) {
        throw new RefusedError(`stack ${stack.name} has no proxy (${pj("proxyPort")} is 0), and the maintenance page is the proxy's; nothing was changed`);
    }
    if (settings.get("maintenance") === state && message === undefined) {
        throw new RefusedError(`maintenance is already ${state} on ${stack.name}; nothing was changed`);
    }
    const snapshot = new ConfigSnapshot(stackConfigFile(stack.name));
    const text = state === "on" ? `: ${message ?? settings.get("maintenanceMessage")}` : "";
    try {
        await apply(stack, snapshot, v.preview === true, `maintenance ${state}${text}`, {
            [pj("maintenance")]: { value: state },
            ...(message !== undefined ? { [pj("maintenanceMessage")]: { value: message } } : {}),
        });
    } catch (err) {
        if (err instanceof UpdateFailed) {
            const now = await stackSettings(stack);
            throw new Error(`maintenance ${state} failed: ${err.message}; maintenance is ${err.changed ? "unknown: check the proxy" : now.get("maintenance")}, ${await servingVersion(settings) ?? "no release"} serves`);
        }
        throw err;
    }
    if (v.preview !== true) {
        notifier.send({
            event: state === "on" ? "maintenance.on" : "maintenance.off", stack: stack.name, version,
            images: releaseImages(settings.get("services"), settings.get("appName"), `${cfg[ns("image")]?.value}@${cfg[ns("imageDigest")]?.value}`, cfg[ns("images")]?.value),
            ...(state === "on" ? { message: message ?? settings.get("maintenanceMessage") } : {}),
        });
        await notifier.flush();
        console.log(`deployctl: maintenance ${state} on ${stack.name}${text}; ${version} serves behind it`);
    }
}
