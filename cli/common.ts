// What deployctl's commands share: the errors that mean "refused or bad input"
// (exit code 2), config key names, opening the --stack stack, its history, and
// the flag rules commander does not have (a flag given once, a value that
// looks like a flag).
import { Stack } from "./pulumiCli";
import { Command, Option } from "commander";
import { PROJECT, RELEASE_NS } from "../components/config";
import { schemaOutputsByStart, showLive } from "./checkpoints";
import { HistoryRow, historyRows, RefusedError, UpdateLike } from "./history";
import { readLiveSchema, stackSettings } from "./live";
import { openExistingStack, StackMissingError, stackLocked } from "./workspace";

export { RefusedError };

/** Bad input: a missing or invalid flag or argument. Exit code 2, nothing changed. */
export class UsageError extends Error {}

/** What a command's run ends with, beyond success or an error: status sets 1 when it finds drift. */
export interface Outcome {
    code: number;
}

export function ns(key: string): string {
    return `${RELEASE_NS}:${key}`;
}

export function pj(key: string): string {
    return `${PROJECT}:${key}`;
}

export function yesNo(flag: string, v: string | undefined, required: boolean): boolean | undefined {
    if (v === undefined) {
        if (required) throw new UsageError(`--${flag} is required (yes or no)`);
        return undefined;
    }
    if (v !== "yes" && v !== "no") throw new UsageError(`--${flag} ${JSON.stringify(v)} is invalid: must be yes or no`);
    return v === "yes";
}

/** Refuses when a file backend holds a lock on the stack (another update in progress). */
export function checkNotLocked(stackName: string): void {
    if (stackLocked(stackName)) {
        throw new RefusedError(`stack ${stackName} is locked by another update in progress; wait for it, or if it was killed run: pulumi cancel --stack ${stackName} --yes`);
    }
}

/** Opens the --stack stack; an unknown name is refused, naming the stacks there are. */
export async function openStack(name: string) {
    try {
        return await openExistingStack(name);
    } catch (err) {
        if (err instanceof StackMissingError) throw new RefusedError(`${err.message}; nothing was changed`);
        throw err;
    }
}

export function requireStack(v: { stack?: string }): string {
    const s = v.stack;
    if (typeof s !== "string" || s === "") throw new UsageError("--stack is required");
    if (!/^[A-Za-z0-9_.-]+$/.test(s)) throw new UsageError(`--stack ${JSON.stringify(s)} is invalid: letters, digits, _ . - only`);
    return s;
}

export async function history(stack: Stack): Promise<UpdateLike[]> {
    // Only release and bookkeeping keys are read from the history, none of them secret.
    return (await stack.history(false)) as unknown as UpdateLike[];
}

/**
 * History rows with the live schema after each update: from the outputs
 * recorded with each successful update, and for the newest update (which may
 * have failed halfway) from the database itself.
 */
export async function historyWithLive(stack: Stack): Promise<HistoryRow[]> {
    const updates = await history(stack);
    const rows = historyRows(updates);
    const recorded = schemaOutputsByStart(process.env.PULUMI_BACKEND_URL, PROJECT, stack.name);
    for (const r of rows) {
        const o = recorded.get(Math.floor(new Date(r.time).getTime() / 1000));
        if (o && r.result === "succeeded") r.liveSchema = showLive(o);
    }
    const newest = rows.find(r => r.operation === "update");
    if (newest) {
        const live = await readLiveSchema(await stackSettings(stack)).catch(() => undefined);
        if (live) newest.liveSchema = `${showLive(live)} (now)`;
    }
    return rows;
}

/**
 * An option that may be given once: a second occurrence is refused rather than
 * silently taking the last value. Commander hands an option's parser the value
 * so far as its second argument (a default would arrive there too, so these
 * options have none; a boolean flag's parser gets undefined as its value).
 */
export function flag(flags: string, description: string): Option {
    const option = new Option(flags, description);
    const name = option.long ?? flags;
    return option.argParser((value: string | undefined, previous: string | boolean | undefined) => {
        if (previous !== undefined) {
            throw new UsageError(value === undefined || typeof previous !== "string"
                ? `${name} is given twice: give it once`
                : `${name} is given twice (${JSON.stringify(previous)} and ${JSON.stringify(value)}): give it once`);
        }
        return value;
    });
}

/** An option that may be given several times; its values are collected in order. */
export function repeatable(flags: string, description: string): Option {
    return new Option(flags, description).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
}

/** --stack, which every command but decide takes (and requires, checked by requireStack). */
export function stackOption(): Option {
    return flag("--stack <S>", "the stack (required)");
}

/**
 * Commander takes the word after an option that needs a value as that value,
 * even when it starts with a dash (`--schema -1`, `--stack --yes`): most
 * likely a forgotten value. Refused before parsing, as Node's util.parseArgs
 * does; such a value is given as --name=-value.
 */
export function refuseAmbiguousValues(cmd: Command, args: string[]): void {
    for (let i = 0; i < args.length; i++) {
        if (args[i] === "--") return;
        const option = cmd.options.find(o => o.long === args[i] || o.short === args[i]);
        if (!option || !option.required) continue;
        const value = args[i + 1];
        if (value !== undefined && value.length > 1 && value.startsWith("-")) {
            throw new UsageError(`Option '${args[i]}' argument is ambiguous: its value is missing, or starts with a dash (then give it as ${args[i]}=${value})`);
        }
        i++;
    }
}
