// deployctl decide: the hotfix runbook's rollback-or-hotfix decision tree. Needs no stack.
import { Command } from "commander";
import { decide } from "../decide";
import { flag, UsageError, yesNo } from "../common";

interface DecideOptions {
    impactingCustomers?: string; configFix?: string; patchMinutes?: string; regressionInPrior?: string;
}

export function registerDecide(program: Command): void {
    program.command("decide")
        .summary("the runbook's rollback-or-hotfix decision")
        .usage("--impacting-customers yes|no --config-fix yes|no [--patch-minutes N] [--regression-in-prior yes|no]")
        .description("The runbook's rollback-or-hotfix decision tree: prints the recommendation, the reason and the next command.")
        .addOption(flag("--impacting-customers <yes|no>", "production is down or customers were impacted in the last 30 minutes (required)"))
        .addOption(flag("--config-fix <yes|no>", "a config or feature-flag change mitigates it (required)"))
        .addOption(flag("--patch-minutes <N>", "minutes a low-risk patch needs to be built and validated"))
        .addOption(flag("--regression-in-prior <yes|no>", "the prior release has the regression too"))
        .addHelpText("after", "\nexample: deployctl decide --impacting-customers yes --config-fix no --patch-minutes 45")
        .action((opts: DecideOptions) => cmdDecide(opts));
}

function cmdDecide(v: DecideOptions): void {
    const minutes = v.patchMinutes;
    if (minutes !== undefined && !/^\d+$/.test(minutes)) throw new UsageError(`--patch-minutes ${JSON.stringify(minutes)} is invalid: must be a whole number of minutes`);
    const d = decide({
        impactingCustomers: yesNo("impacting-customers", v.impactingCustomers, true)!,
        configFix: yesNo("config-fix", v.configFix, true)!,
        patchMinutes: minutes === undefined ? undefined : Number(minutes),
        regressionInPrior: yesNo("regression-in-prior", v.regressionInPrior, false),
    });
    console.log(`recommendation: ${d.action}\nreason: ${d.reason}\nnext: ${d.next}`);
}
