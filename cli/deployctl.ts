#!/usr/bin/env node
// deployctl: deploy, roll back and read the release record, on the Pulumi Automation API.
//
// Its command line is commander's: no runtime dependencies, types included,
// help and option parsing per command (an option the command does not take is
// refused), and exitOverride()/configureOutput() keep the exit codes and the
// messages ours. It starts fast, which matters: a rollback must be quick.
// (yargs pulls several dependencies; oclif is a framework with plugin loading
// and a manifest, heavier to start.)
//
// This file builds the program and maps errors to exit codes. The user's
// selected stack is never changed: every call passes --stack (workspace.ts).
// Each command is one file under commands/, the update machinery is update.ts
// and what the commands share is common.ts.
import { Command, CommanderError } from "commander";
import { Outcome, RefusedError, refuseAmbiguousValues, UsageError } from "./common";
import { registerCut } from "./commands/cut";
import { registerDecide } from "./commands/decide";
import { registerDeploy } from "./commands/deploy";
import { registerForceSchema } from "./commands/force-schema";
import { registerHistory } from "./commands/history";
import { registerMaintenance } from "./commands/maintenance";
import { registerRecord } from "./commands/record";
import { registerReleases } from "./commands/releases";
import { registerRestore } from "./commands/restore";
import { registerRollback } from "./commands/rollback";
import { registerStatus } from "./commands/status";
import { colourOn, red } from "./output";

/** Every command, in the order the overview lists them. */
const COMMANDS: ((program: Command, outcome: Outcome) => void)[] = [
    registerCut, registerDeploy, registerRollback, registerMaintenance, registerForceSchema, registerStatus,
    registerReleases, registerHistory, registerRecord, registerRestore, registerDecide,
];

/** The program, with every command registered; a new one for each run. */
function buildProgram(outcome: Outcome): Command {
    const program = new Command("deployctl")
        .usage("<command> [options]")
        .description("Deploys and rolls back the stack's release, and reads its release record, with the Pulumi Automation API.")
        .helpCommand(false)
        .allowExcessArguments(false)
        // Commander neither exits the process nor prints its own errors: it throws, and main() prints one line.
        .exitOverride()
        .configureOutput({
            writeOut: text => process.stdout.write(text),
            writeErr: text => process.stderr.write(text),
            outputError: () => undefined,
        })
        .configureHelp({ styleTitle: title => title.toLowerCase(), subcommandTerm: command => command.name() })
        .addHelpText("after", `
deployctl <command> --help prints a command's options, what it does and an example.
exit codes: 0 done, 1 an update failed, 2 refused or bad input (nothing was changed).`);
    // Made with program.command() after the settings above, each command copies them
    // (exitOverride, output, help): commander's copyInheritedSettings.
    for (const register of COMMANDS) register(program, outcome);
    return program;
}

/** The one last line of a failure, on stderr; red on a terminal. */
function fail(message: string): void {
    console.error(red(`deployctl: ${message.split("\n")[0]}`, colourOn(process.stderr.isTTY, process.env)));
}

/** Commander's own error (an unknown option, a missing value, too many arguments) as one line. */
function parseProblem(err: CommanderError, command: string | undefined): string {
    const [first, ...rest] = err.message.replace(/^error: /, "").split("\n");
    if (command === undefined && err.code === "commander.unknownOption") {
        return `${first}: the command comes first, as in deployctl history --stack S (see deployctl --help)`;
    }
    const suggestion = rest.find(l => l.startsWith("(Did you mean"));
    return `${first} ${suggestion ? suggestion.replace("(Did", "(did") : `(see deployctl ${command ? `${command} ` : ""}--help)`}`;
}

/** Runs deployctl; resolves to its exit code: 0 done, 1 failed, 2 refused or bad input. */
export async function main(argv: string[]): Promise<number> {
    const outcome: Outcome = { code: 0 };
    const program = buildProgram(outcome);
    const command = program.commands.find(c => c.name() === argv[0]);
    try {
        if (argv.length === 0) {
            program.outputHelp({ error: true });
            return 2;
        }
        if (!command && !argv[0].startsWith("-")) throw new UsageError(`unknown command ${JSON.stringify(argv[0])} (see deployctl --help)`);
        if (command) refuseAmbiguousValues(command, argv.slice(1));
        await program.parseAsync(argv, { from: "user" });
        return outcome.code;
    } catch (err) {
        if (err instanceof CommanderError) {
            if (err.code === "commander.helpDisplayed") return 0;
            fail(parseProblem(err, command?.name()));
            return 2;
        }
        const e = err as Error;
        fail(e.message);
        return e instanceof UsageError || e instanceof RefusedError ? 2 : 1;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(code => { process.exitCode = code; });
}
