// The update machinery of deploy, rollback and maintenance: runs `pulumi up`
// (or a preview) streaming the engine's output, puts the stack's config back
// when the engine changed nothing, and after a failed update makes the config
// describe what actually runs (the account), with --atomic recovery.
import { CliError, ConfigMap, Stack, STACK_ENV } from "./pulumiCli";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RELEASE_KEYS } from "../components/config";
import { dirtyProblem, inRange, LiveSchema, rangeOf } from "../components/schema";
import { ns, pj, RefusedError } from "./common";
import { BackupAhead } from "./backupAhead";
import { causeOf } from "./failure";
import { migrationRunning, readLiveSchema, servingLine, servingVersion, StackSettings } from "./live";
import { failedStep } from "./failure";
import { Notifier } from "./notify";
import { engineColor } from "./output";

/** Snapshot of a stack's settings file, put back when an operation is refused or never started. */
export class ConfigSnapshot {
    private readonly content: string | undefined;
    constructor(private readonly file: string) {
        this.content = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    }
    restore(): void {
        if (this.content === undefined) fs.rmSync(this.file, { force: true });
        else fs.writeFileSync(this.file, this.content);
    }
    /** Of `keys`, those the settings file may set (see settingsMaySet). */
    maySet(keys: string[]): string[] {
        return settingsMaySet(this.content, keys);
    }
}

/**
 * Of `keys` ("ns:name"), those a stack's settings file may set: those whose
 * name occurs anywhere in its text. `pulumi config --json` also lists the
 * project's defaults from Pulumi.yaml, so a key it shows may be in no file, and
 * `pulumi config rm-all` of such a key changes nothing (a CLI start, about
 * 0.2 s, for nothing). A name that occurs in the text, quoted, commented or in
 * a value, counts: rm-all then runs, as before.
 */
export function settingsMaySet(content: string | undefined, keys: string[]): string[] {
    if (content === undefined) return [];
    return keys.filter(k => content.includes(k.slice(k.indexOf(":") + 1)));
}

/** An update that failed: the engine's text, and whether any resource had started to change. */
export class UpdateFailed extends Error {
    constructor(readonly text: string, readonly changed: boolean) {
        super(causeOf(text));
    }
}

/**
 * The `--config key=value` arguments that make `pulumi up` (or preview) write
 * config keys to the stack's settings file before it runs the program, saving
 * the separate `pulumi config set-all` (a CLI start, about 0.2 s). Only plain
 * values go this way (`--config` has no secret form); secret ones are set first.
 */
export async function configArgs(stack: Stack, config: ConfigMap = {}): Promise<string[]> {
    const secret = Object.entries(config).filter(([, v]) => v.secret);
    if (secret.length > 0) await stack.setAllConfig(Object.fromEntries(secret));
    return Object.entries(config).filter(([, v]) => !v.secret).flatMap(([k, v]) => ["--config", `${k}=${v.value}`]);
}

/**
 * Runs `up` (or a preview) with `config` written to the stack first, streaming
 * the engine's output. Restores config if the engine changed nothing.
 */
export async function apply(stack: Stack, snapshot: ConfigSnapshot, previewOnly: boolean, message: string, config?: ConfigMap,
    backupAhead?: Record<string, string>): Promise<void> {
    const stream = (out: string) => process.stdout.write(out);
    if (previewOnly) {
        try {
            await stack.preview({ onOutput: stream, color: engineColor(), message, args: await configArgs(stack, config) });
        } catch (err) {
            throw new Error(causeOf(String((err as Error).message ?? err)));
        } finally {
            snapshot.restore();
        }
        return;
    }
    let result: Awaited<ReturnType<typeof up>>;
    let ahead: BackupAhead | undefined;
    try {
        const args = await configArgs(stack, config);
        ahead = backupAhead ? BackupAhead.start(backupAhead) : undefined;
        result = await up(stack, message, args, ahead?.env);
    } catch (err) {
        snapshot.restore();
        throw err;
    } finally {
        const notice = await ahead?.finish();
        if (notice) console.log(`deployctl: ${notice}`);
    }
    if (result.failed !== undefined) {
        const { text, changed } = result.failed;
        if (!changed) snapshot.restore();
        if (/currently locked|locked by/i.test(text)) {
            throw new RefusedError(`stack ${stack.name} is locked by another update in progress; nothing was changed (if that update was killed: pulumi cancel --stack ${stack.name} --yes)`);
        }
        throw new UpdateFailed(text, changed);
    }
}

/**
 * `pulumi up --skip-preview` on the stack, streaming the engine's output, with
 * the same arguments and environment as the Automation API's Stack.up. Unlike
 * Stack.up it does not read the stack's outputs and history after the update
 * (three more CLI calls, about a second, that deployctl never uses). Resolves
 * with the engine's text on failure, and whether any resource had begun to
 * change (from the engine's event log).
 */
export async function up(stack: Stack, message: string, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<{ failed?: { text: string; changed: boolean } }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deployctl-events-"));
    const events = path.join(dir, "events.log");
    const args = ["up", "--yes", "--skip-preview", "--message", message, "--color", engineColor(), "--exec-kind", "auto.local",
        "--event-log", events, ...extraArgs, "--stack", stack.name];
    try {
        const r = await stack.cli.run(args, t => process.stdout.write(t), { ...STACK_ENV, ...env });
        if (r.code === 0) return {};
        return { failed: { text: new CliError(r).message, changed: anyChange(events) } };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Whether an engine event log shows a resource beginning to change (any step but "same"). */
export function anyChange(eventLog: string): boolean {
    if (!fs.existsSync(eventLog)) return false;
    return fs.readFileSync(eventLog, "utf8").split("\n").some(line => {
        if (!line.includes("resourcePreEvent")) return false;
        try {
            const e = JSON.parse(line) as { resourcePreEvent?: { metadata?: { op?: string } } };
            return e.resourcePreEvent !== undefined && e.resourcePreEvent.metadata?.op !== "same";
        } catch {
            return false;
        }
    });
}

/** What a deploy or rollback knows before it starts, for the account after a failure. */
export interface Attempt {
    stack: Stack;
    settings: StackSettings;
    snapshot: ConfigSnapshot;
    /** "deploy" or "rollback". */
    what: string;
    /** The release being put in place. */
    version: string;
    /** Its image, repo@digest. */
    imageRef: string;
    /** The release serving before the update, and its recorded config. */
    before?: { version: string; release: Record<string, string> };
    atomic: boolean;
    /** The config keys the update writes (with `pulumi up --config`). */
    config?: ConfigMap;
    /** Where the start, success and failure notices go, and the release's images they name. */
    notices?: { notifier: Notifier; images: Record<string, string> };
    /** The backup step's environment, for a backup started with the update (cli/backupAhead.ts). */
    backupAhead?: Record<string, string>;
}

/**
 * After a failed update, makes the stack's config describe what actually runs
 * and says so in one line:
 * - nothing switched: the config goes back to the release that still serves;
 * - the new release switched and --atomic: the previous release is put back
 *   by a new, recorded rollback (app only when the live schema is inside its
 *   range, else down migrations from the failed release's image);
 * - the new release switched without --atomic: it serves, and the line says
 *   how to go back.
 */
export async function account(a: Attempt, failure: UpdateFailed): Promise<never> {
    const cause = failure.message;
    const serving = await servingVersion(a.settings);
    const name = a.stack.name;
    if (serving === a.version && a.before && a.before.version !== a.version) {
        if (!a.atomic) {
            const each = await servingLine(a.settings);
            if (each) throw new Error(`${a.what} of ${a.version} failed: ${cause}; ${each} (${a.version} began to switch); to converge, fix and run the same ${a.what} again, or go back: deployctl rollback ${a.before.version} --stack ${name}`);
            throw new Error(`${a.what} of ${a.version} failed: ${cause}; ${a.version} serves (it switched before the failure); to go back: deployctl rollback ${a.before.version} --stack ${name}`);
        }
        console.log(`deployctl: ${a.what} of ${a.version} failed after it switched (${cause}); atomic: putting ${a.before.version} back`);
        a.snapshot.restore();
        const live = await readLiveSchema(a.settings).catch(() => undefined);
        const range = rangeOf(a.before.release.schemaMin, a.before.release.schemaMax);
        const down = live !== undefined && !inRange(live.version, range);
        const next: ConfigMap = {};
        for (const key of RELEASE_KEYS) if (a.before.release[key] !== undefined) next[ns(key)] = { value: a.before.release[key] };
        const stale = [pj("restoreDump"), pj("restoreDumpSha256"), pj("provenanceOverride"), ...(down ? [] : [pj("downImage")])];
        await a.stack.removeAllConfig(stale);
        const recovery = await up(a.stack, `rollback to ${a.before.version} from ${a.version} (atomic recovery)`, await configArgs(a.stack, {
            ...next,
            [pj("kind")]: { value: "rollback" }, [pj("replacesVersion")]: { value: a.version },
            [pj("dbMode")]: { value: down ? "down" : "keep" }, [pj("atomicRecoveryOf")]: { value: a.version },
            ...(down ? { [pj("downImage")]: { value: a.imageRef } } : {}),
        }));
        if (recovery.failed) {
            const now = await servingVersion(a.settings);
            throw new Error(`${a.what} of ${a.version} failed: ${cause}; atomic recovery to ${a.before.version} failed too: ${causeOf(recovery.failed.text)}; ${now ?? "no release"} serves`);
        }
        const each = await servingLine(a.settings);
        throw new Error(`${a.what} of ${a.version} failed: ${cause}; atomic: ${a.before.version} was put back${down ? " with down migrations" : ""} and serves again (recorded as a rollback)${each ? `: ${each}` : ""}`);
    }
    if (serving !== a.version) a.snapshot.restore();
    const each = await servingLine(a.settings);
    if (each !== "" && serving === a.version) {
        throw new Error(`${a.what} of ${a.version} failed: ${cause}; ${each}; run the same ${a.what} again once fixed, or deployctl rollback${a.before ? ` ${a.before.version}` : ""} --stack ${name}, to converge`);
    }
    throw new Error(`${a.what} of ${a.version} failed: ${cause}; ${serving === a.version ? `${a.version} serves` : `nothing switched: ${serving ?? "no release"} still serves`}`);
}

/** Runs the update of an attempt, accounting for a failure, with its notices (none for a preview). */
export async function applyAttempt(a: Attempt, previewOnly: boolean, message: string): Promise<void> {
    const notices = previewOnly ? undefined : a.notices;
    const what = a.what === "rollback" ? "rollback" : "deploy";
    const base = { stack: a.stack.name, version: a.version, images: notices?.images ?? {} };
    notices?.notifier.send({ ...base, event: `${what}.started` });
    try {
        try {
            await apply(a.stack, a.snapshot, previewOnly, message, a.config, a.backupAhead);
        } catch (err) {
            if (err instanceof UpdateFailed) await account(a, err);
            throw err;
        }
    } catch (err) {
        const line = String((err as Error).message ?? err).split("\n")[0];
        notices?.notifier.send({ ...base, event: `${what}.failed`, step: failedStep(line), message: line });
        await notices?.notifier.flush();
        throw err;
    }
    notices?.notifier.send(async () => ({ ...base, event: `${what}.succeeded`, hashes: await recordHashes(a.stack) }));
    await notices?.notifier.flush();
}

/** The release record's hashes after an update: its dump's and its bundle's. */
async function recordHashes(stack: Stack): Promise<{ backup?: string; artifact?: string }> {
    const outputs = await stack.outputs();
    const r = outputs.releaseRecord?.value as { backup?: { sha256?: string }; artifact?: { sha256?: string } } | undefined;
    return { backup: r?.backup?.sha256 || undefined, artifact: r?.artifact?.sha256 || undefined };
}

/** The live schema, refusing a dirty one with the exact recovery. */
export async function cleanLiveSchema(stack: Stack, settings: StackSettings, serving: string | undefined): Promise<LiveSchema> {
    let live: LiveSchema;
    try {
        live = await readLiveSchema(settings);
    } catch (err) {
        throw new RefusedError(`${(err as Error).message}; nothing was changed`);
    }
    // A schema marked dirty by a migration that is still running (say, from an update whose engine was
    // killed) is waited for, as the migration tool's own `version` does, not reported as a failure.
    // The lock is checked before the schema is read again: a migration that finishes between the two
    // reads clears its dirty flag before it releases the lock, so a dirty read taken after the lock
    // was seen free is final (read the other way round, a finishing migration looked failed).
    for (let waited = 0; live.dirty && waited < 600; waited++) {
        const running = await migrationRunning(settings);
        live = await readLiveSchema(settings);
        if (!live.dirty || !running) break;
        if (waited === 0) console.log(`deployctl: a migration is still running on schema ${live.version}; waiting for it to finish`);
        await new Promise(r => setTimeout(r, 1000));
    }
    if (live.dirty) throw new RefusedError(dirtyProblem(live, stack.name, serving));
    return live;
}

/** --atomic, or the stack's atomic setting. */
export function atomicOf(v: { atomic?: boolean }, settings: StackSettings): boolean {
    return v.atomic === true || settings.get("atomic") === "true";
}
