// deployctl status: what runs now, read from the live system, and any drift from the release record.
import { Command } from "commander";
import { flag, openStack, Outcome, requireStack, stackOption } from "../common";
import { stackSettings } from "../live";
import { readStatus, statusText } from "../status";

interface StatusOptions {
    stack?: string; json?: boolean;
}

export function registerStatus(program: Command, outcome: Outcome): void {
    program.command("status")
        .summary("what runs now, read from the live system, and drift from the release record")
        .usage("--stack S [--json]")
        .description("What runs now, read from the live system: each service's container, version, digest and health answer, the schema and its dirty flag, maintenance, and whether the stack is locked; any difference from the release record is listed as drift (and the exit code is 1).")
        .addOption(stackOption())
        .addOption(flag("--json", "print JSON"))
        .addHelpText("after", "\nexample: deployctl status --stack prod --json")
        .action(async (opts: StatusOptions) => {
            if (!(await cmdStatus(opts))) outcome.code = 1;
        });
}

async function cmdStatus(v: StatusOptions): Promise<boolean> {
    const stack = await openStack(requireStack(v));
    const st = await readStatus(stack, await stackSettings(stack));
    console.log(v.json === true ? JSON.stringify(st, null, 2) : statusText(st));
    return st.drift.length === 0;
}
