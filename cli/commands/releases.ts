// deployctl releases: the rollback inventory.
import { Command } from "commander";
import { ReleaseRecord } from "../../components/record";
import { flag, history, openStack, requireStack, stackOption } from "../common";
import { currentRelease } from "../history";
import { readLiveSchema, stackSettings } from "../live";
import { releaseInventory, releasesText } from "../releases";

interface ReleasesOptions {
    stack?: string; json?: boolean;
}

export function registerReleases(program: Command): void {
    program.command("releases")
        .summary("the rollback inventory: what each earlier release needs, and which --db modes work now")
        .usage("--stack S [--json]")
        .description("The rollback inventory: every release in the stack's history a rollback can target, whether its images are on the host or in the registry (checked without pulling), whether the dump a restore would use is present with its recorded checksum, whether the live schema is inside its range, and the --db modes that work now.")
        .addOption(stackOption())
        .addOption(flag("--json", "print JSON"))
        .addHelpText("after", "\nexample: deployctl releases --stack prod")
        .action((opts: ReleasesOptions) => cmdReleases(opts));
}

async function cmdReleases(v: ReleasesOptions): Promise<void> {
    const stack = await openStack(requireStack(v));
    const settings = await stackSettings(stack);
    const updates = await history(stack);
    const live = await readLiveSchema(settings).catch(() => undefined);
    const record = (await stack.outputs()).releaseRecord?.value as ReleaseRecord | undefined;
    const rows = await releaseInventory(updates, settings, live, record?.backup, currentRelease(updates)?.version);
    console.log(v.json === true ? JSON.stringify(rows, null, 2) : releasesText(rows, live));
}
