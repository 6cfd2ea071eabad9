// deployctl history: every update of the stack, newest first.
import { Command } from "commander";
import { flag, historyWithLive, openStack, requireStack, stackOption } from "../common";
import { historyTable } from "../history";

interface HistoryOptions {
    stack?: string; json?: boolean;
}

export function registerHistory(program: Command): void {
    program.command("history")
        .summary("every update of the stack, newest first")
        .usage("--stack S [--json]")
        .description("Every update of the stack, newest first: kind, result, version, digest, git SHA, schema target and range, and the live schema after it.")
        .addOption(stackOption())
        .addOption(flag("--json", "print JSON"))
        .addHelpText("after", "\nexample: deployctl history --stack prod --json")
        .action((opts: HistoryOptions) => cmdHistory(opts));
}

async function cmdHistory(v: HistoryOptions): Promise<void> {
    const stack = await openStack(requireStack(v));
    const rows = await historyWithLive(stack);
    if (v.json === true) console.log(JSON.stringify(rows, null, 2));
    else console.log(historyTable(rows));
}
