#!/usr/bin/env node
// deployctl: deploy, roll back and read the release record, on the Pulumi Automation API.
import { ConfigMap, Stack } from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { parseArgs } from "util";
import { checkImageRef, checkReleaseValue, checkSettingValue, DEFAULTS, OPTIONAL_RELEASE_KEYS, PROJECT, RELEASE_KEYS, RELEASE_NS, rangeProblems } from "../components/config";
import {
    deployRangeProblem, dirtyProblem, inRange, keepRollbackProblem, LiveSchema, missingDownsFor, rangeOf, showRange,
} from "../components/schema";
import { schemaOutputsByStart, showLive } from "./checkpoints";
import { causeOf } from "./failure";
import { imageMigrationFiles, migrationRunning, readLiveSchema, run, servingLine, servingVersion, sha256File, stackSettings, StackSettings } from "./live";
import { DNS_LABEL_RE } from "../components/rules";
import { ReleaseRecord, renderReleaseMarkdown } from "../components/record";
import { decide } from "./decide";
import { releaseInventory, releasesText } from "./releases";
import { readStatus, statusText } from "./status";
import { COUNT_ROWS_SQL, compareCounts, countsTable, parseCounts } from "./drill";
import {
    currentRelease, HistoryRow, historyRows, historyTable, RefusedError, releaseConfigOf, selectRollbackTarget, UpdateLike,
} from "./history";
import { openExistingStack, restoreSelection, ROOT, selectedStack, StackMissingError, stackConfigFile, stackLocked } from "./workspace";
import { databaseUrl } from "../components/migrations";

const USAGE = `usage:
  deployctl deploy   --stack S [--version vX.Y.Z --image REPO --digest sha256:... --sha GIT_SHA --schema N
                     --schema-min N --schema-max N --notes TEXT --service NAME=REPO@sha256:...] [--atomic] [--preview]
  deployctl rollback <vX.Y.Z|previous> --stack S [--db keep|down|restore] [--atomic] [--yes] [--preview]
  deployctl maintenance <on|off> --stack S [--message TEXT] [--preview]
  deployctl force-schema <N> --stack S --yes
  deployctl status   --stack S [--json]
  deployctl releases --stack S [--json]
  deployctl history  --stack S [--json]
  deployctl record   <vX.Y.Z> --stack S [--out DIR]
  deployctl restore  --stack S --dump FILE [--into SCRATCH_DB] [--keep]
  deployctl decide   --impacting-customers yes|no --config-fix yes|no [--patch-minutes N] [--regression-in-prior yes|no]`;

/** Help for each command: its usage, what it does, an example. */
const HELP: Record<string, string> = {
    deploy: `usage: deployctl deploy --stack S [--version vX.Y.Z --image REPO --digest sha256:... --sha GIT_SHA --schema N
                        --schema-min N --schema-max N --notes TEXT --service NAME=REPO@sha256:...] [--atomic] [--preview]
Sets the stack's release: config to the given release (flags not given keep the stack's values) and runs
pulumi up: verified backup, migrations, switch, smoke test. Refused, with nothing changed, when the
database is dirty or outside the release's schema range, or the stack is locked.
--image/--digest pin the service that owns the migrations; --service (once per service) pins each other
service of a bundle (release:images).
example: deployctl deploy --stack prod --version v1.4.0 --image registry.example.com/acme/api \\
           --digest sha256:<64 hex> --sha <40 hex> --schema 4 --schema-min 4 --schema-max 4`,
    rollback: `usage: deployctl rollback <vX.Y.Z|previous> --stack S [--db keep|down|restore] [--atomic] [--yes] [--preview]
Puts a release from the stack's history back, with the config it was deployed with.
  --db keep     app only; refused when the live schema is outside the target's range
  --db down     run the newer image's down migrations to the target's schema first
  --db restore  restore the target's pre-release dump (a safety dump is taken first; asks unless --yes)
example: deployctl rollback previous --stack prod --db down`,
    maintenance: `usage: deployctl maintenance <on|off> --stack S [--message TEXT] [--preview]
Switches the proxy's maintenance page on or off with a pulumi up, so every toggle is in the stack's history.
While on, every public request but the health path gets 503, the message and Retry-After.
example: deployctl maintenance on --stack prod --message "Upgrading the database; back at 02:30 UTC"`,
    "force-schema": `usage: deployctl force-schema <N> --stack S --yes
Marks a dirty schema clean at version N after you have repaired the database by hand (golang-migrate's force).
example: deployctl force-schema 2 --stack prod --yes`,
    status: `usage: deployctl status --stack S [--json]
What runs now, read from the live system: each service's container, version, digest and health answer, the
schema and its dirty flag, maintenance, and whether the stack is locked; any difference from the release record
is listed as drift (and the exit code is 1).
example: deployctl status --stack prod --json`,
    releases: `usage: deployctl releases --stack S [--json]
The rollback inventory: every release in the stack's history a rollback can target, whether its images are on
the host or in the registry (checked without pulling), whether the dump a restore would use is present with its
recorded checksum, whether the live schema is inside its range, and the --db modes that work now.
example: deployctl releases --stack prod`,
    history: `usage: deployctl history --stack S [--json]
Every update of the stack, newest first: kind, result, version, digest, git SHA, schema target and range,
and the live schema after it.
example: deployctl history --stack prod --json`,
    record: `usage: deployctl record <vX.Y.Z> --stack S [--out DIR]
Writes releases/<vX.Y.Z>.md, the playbook's release record, from the stack's history.
example: deployctl record v1.4.0 --stack prod`,
    restore: `usage: deployctl restore --stack S --dump FILE [--into SCRATCH_DB] [--keep]
Restore drill: restores a dump into a scratch database and compares row counts with the live one.
example: deployctl restore --stack prod --dump /var/backups/api-server/pre_release_v1.4.0_20261123T101500Z.dump`,
    decide: `usage: deployctl decide --impacting-customers yes|no --config-fix yes|no [--patch-minutes N] [--regression-in-prior yes|no]
The runbook's rollback-or-hotfix decision tree.
example: deployctl decide --impacting-customers yes --config-fix no --patch-minutes 45`,
};

/** The rollback-bookkeeping keys a deploy resets to their defaults. */
const ROLLBACK_KEYS = ["kind", "replacesVersion", "dbMode", "downImage", "restoreDump", "restoreDumpSha256", "atomicRecoveryOf"];

class UsageError extends Error {}

function ns(key: string): string {
    return `${RELEASE_NS}:${key}`;
}

function pj(key: string): string {
    return `${PROJECT}:${key}`;
}

function yesNo(flag: string, v: string | undefined, required: boolean): boolean | undefined {
    if (v === undefined) {
        if (required) throw new UsageError(`--${flag} is required (yes or no)`);
        return undefined;
    }
    if (v !== "yes" && v !== "no") throw new UsageError(`--${flag} ${JSON.stringify(v)} is invalid: must be yes or no`);
    return v === "yes";
}

async function confirm(question: string, expected: string): Promise<boolean> {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    const answer = await new Promise<string>(resolve => rl.question(question, resolve));
    rl.close();
    return answer.trim() === expected;
}

/** Refuses when a file backend holds a lock on the stack (another update in progress). */
function checkNotLocked(stackName: string): void {
    if (stackLocked(stackName)) {
        throw new RefusedError(`stack ${stackName} is locked by another update in progress; wait for it, or if it was killed run: pulumi cancel --stack ${stackName} --yes`);
    }
}

/** Snapshot of a stack's settings file, put back when an operation is refused or never started. */
class ConfigSnapshot {
    private readonly content: string | undefined;
    constructor(private readonly file: string) {
        this.content = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    }
    restore(): void {
        if (this.content === undefined) fs.rmSync(this.file, { force: true });
        else fs.writeFileSync(this.file, this.content);
    }
}

/** An update that failed: the engine's text, and whether any resource had started to change. */
class UpdateFailed extends Error {
    constructor(readonly text: string, readonly changed: boolean) {
        super(causeOf(text));
    }
}

/** Runs `up` (or a preview), streaming the engine's output. Restores config if the engine changed nothing. */
async function apply(stack: Stack, snapshot: ConfigSnapshot, previewOnly: boolean, message: string): Promise<void> {
    const stream = (out: string) => process.stdout.write(out);
    if (previewOnly) {
        try {
            await stack.preview({ onOutput: stream, color: "never", diff: false, message });
        } catch (err) {
            throw new Error(causeOf(String((err as Error).message ?? err)));
        } finally {
            snapshot.restore();
        }
        return;
    }
    let changed = false;
    try {
        await stack.up({
            onOutput: stream, color: "never", message,
            onEvent: e => {
                if (e.resourcePreEvent && e.resourcePreEvent.metadata.op !== "same") changed = true;
            },
        });
    } catch (err) {
        const text = String((err as Error).message ?? err);
        if (!changed) snapshot.restore();
        if (/currently locked|locked by/i.test(text)) {
            throw new RefusedError(`stack ${stack.name} is locked by another update in progress; nothing was changed (if that update was killed: pulumi cancel --stack ${stack.name} --yes)`);
        }
        throw new UpdateFailed(text, changed);
    }
}

/** What a deploy or rollback knows before it starts, for the account after a failure. */
interface Attempt {
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
async function account(a: Attempt, failure: UpdateFailed): Promise<never> {
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
        await a.stack.setAllConfig({
            ...next,
            [pj("kind")]: { value: "rollback" }, [pj("replacesVersion")]: { value: a.version },
            [pj("dbMode")]: { value: down ? "down" : "keep" }, [pj("atomicRecoveryOf")]: { value: a.version },
            ...(down ? { [pj("downImage")]: { value: a.imageRef } } : {}),
        });
        const stale = [pj("restoreDump"), pj("restoreDumpSha256"), ...(down ? [] : [pj("downImage")])];
        await a.stack.removeAllConfig(stale);
        try {
            await a.stack.up({ onOutput: (o: string) => process.stdout.write(o), color: "never", message: `rollback to ${a.before.version} from ${a.version} (atomic recovery)` });
        } catch (err) {
            const again = await servingVersion(a.settings);
            throw new Error(`${a.what} of ${a.version} failed: ${cause}; atomic recovery to ${a.before.version} failed too: ${causeOf(String((err as Error).message ?? err))}; ${again ?? "no release"} serves`);
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

/** Runs the update of an attempt, accounting for a failure. */
async function applyAttempt(a: Attempt, previewOnly: boolean, message: string): Promise<void> {
    try {
        await apply(a.stack, a.snapshot, previewOnly, message);
    } catch (err) {
        if (err instanceof UpdateFailed) await account(a, err);
        throw err;
    }
}

/** The live schema, refusing a dirty one with the exact recovery. */
async function cleanLiveSchema(stack: Stack, settings: StackSettings, serving: string | undefined): Promise<LiveSchema> {
    let live: LiveSchema;
    try {
        live = await readLiveSchema(settings);
    } catch (err) {
        throw new RefusedError(`${(err as Error).message}; nothing was changed`);
    }
    // A schema marked dirty by a migration that is still running (say, from an update whose engine was
    // killed) is waited for, as the migration tool's own `version` does, not reported as a failure.
    for (let waited = 0; live.dirty && waited < 600 && await migrationRunning(settings); waited++) {
        if (waited === 0) console.log(`deployctl: a migration is still running on schema ${live.version}; waiting for it to finish`);
        await new Promise(r => setTimeout(r, 1000));
        live = await readLiveSchema(settings);
    }
    if (live.dirty) throw new RefusedError(dirtyProblem(live, stack.name, serving));
    return live;
}

async function history(stack: Stack): Promise<UpdateLike[]> {
    return (await stack.history()) as unknown as UpdateLike[];
}

async function cmdDeploy(v: Record<string, string | boolean | undefined>): Promise<void> {
    const stack = await openStack(requireStack(v));
    checkNotLocked(stack.name);
    const current = await stack.getAllConfig();
    const flags: Record<string, string | undefined> = {
        version: v.version as string | undefined, image: v.image as string | undefined,
        imageDigest: v.digest as string | undefined, gitSha: v.sha as string | undefined,
        schemaVersion: v.schema as string | undefined, notes: v.notes as string | undefined,
        schemaMin: v["schema-min"] as string | undefined, schemaMax: v["schema-max"] as string | undefined,
    };
    const flagName: Record<string, string> = { imageDigest: "digest", gitSha: "sha", schemaVersion: "schema", schemaMin: "schema-min", schemaMax: "schema-max" };
    // A new version takes its range from the flags only: a range is part of the release, never inherited.
    const newVersion = flags.version !== undefined && flags.version !== current[ns("version")]?.value;
    const next: ConfigMap = {};
    const values: Record<string, string | undefined> = {};
    for (const key of RELEASE_KEYS) {
        const inherited = newVersion && (key === "schemaMin" || key === "schemaMax" || key === "notes") ? undefined : current[ns(key)]?.value;
        const value = flags[key] ?? inherited;
        if (OPTIONAL_RELEASE_KEYS.includes(key)) {
            if (value !== undefined && value !== "") {
                const problem = key === "notes" ? undefined : checkReleaseValue(key, value);
                if (problem) throw new UsageError(problem.replace(ns(key), flags[key] !== undefined ? `--${flagName[key] ?? key}` : ns(key)));
                next[ns(key)] = { value };
                values[key] = value;
            }
            continue;
        }
        if (value === undefined || value === "") throw new UsageError(`--${flagName[key] ?? key} is required: the stack has no ${ns(key)} yet`);
        const problem = checkReleaseValue(key, value);
        if (problem) throw new UsageError(problem.replace(ns(key), flags[key] !== undefined ? `--${flagName[key] ?? key}` : ns(key)));
        next[ns(key)] = { value };
        values[key] = value;
    }
    const services = serviceFlags(v.service as string[] | undefined);
    if (services) {
        const images = { ...JSON.parse(current[ns("images")]?.value || "{}") as Record<string, string>, ...services };
        next[ns("images")] = { value: JSON.stringify(images) };
        values.images = next[ns("images")].value;
    }
    const rangeProblem = rangeProblems(values)[0];
    if (rangeProblem) throw new UsageError(rangeProblem);
    const settings = await stackSettings(stack, current);
    const version = next[ns("version")].value;
    const ref = `${next[ns("image")].value}@${next[ns("imageDigest")].value}`;
    const updates = await history(stack);
    const last = currentRelease(updates);
    const serving = await servingVersion(settings);
    const live = await cleanLiveSchema(stack, settings, serving);
    const problem = deployRangeProblem({ version, schemaVersion: Number(values.schemaVersion), range: rangeOf(values.schemaMin, values.schemaMax) }, live);
    if (problem) throw new RefusedError(problem);

    const snapshot = new ConfigSnapshot(stackConfigFile(stack.name));
    await stack.setAllConfig(next);
    await stack.removeAllConfig([...ROLLBACK_KEYS.map(pj), ...OPTIONAL_RELEASE_KEYS.filter(k => next[ns(k)] === undefined).map(ns)]);
    console.log(`deployctl: deploying ${version} (${ref}) to ${stack.name}; database at schema ${live.version}, ${version} runs on ${showRange(rangeOf(values.schemaMin, values.schemaMax))}`);
    const before = last && serving === last.version ? { version: last.version, release: releaseConfigOf(updates, last.update) } : undefined;
    await applyAttempt({
        stack, settings, snapshot, what: "deploy", version, imageRef: ref, before, atomic: atomicOf(v, settings),
    }, v.preview === true, `deploy ${version}`);
    if (v.preview !== true) console.log(`deployctl: ${stack.name} runs ${version}`);
}

/** --service NAME=REPO@sha256:... flags, as release:images entries; undefined when none is given. */
function serviceFlags(raw: string[] | undefined): Record<string, string> | undefined {
    if (raw === undefined) return undefined;
    const out: Record<string, string> = {};
    for (const item of raw) {
        const eq = item.indexOf("=");
        const name = eq < 0 ? "" : item.slice(0, eq);
        const ref = item.slice(eq + 1);
        if (!DNS_LABEL_RE.test(name)) {
            throw new UsageError(`--service ${JSON.stringify(item)} is invalid: must be NAME=REPOSITORY@sha256:<64 hex>, NAME a service of the bundle`);
        }
        if (name in out) throw new UsageError(`--service ${name} is given twice: give each service once`);
        if (checkImageRef("--service", ref)) throw new UsageError(`--service ${JSON.stringify(item)} is invalid: must be NAME=REPOSITORY@sha256:<64 hex> (pinned by digest, never a tag)`);
        out[name] = ref;
    }
    return out;
}

/** --atomic, or the stack's atomic setting. */
function atomicOf(v: Record<string, string | boolean | undefined>, settings: StackSettings): boolean {
    return v.atomic === true || settings.get("atomic") === "true";
}

async function cmdRollback(target: string | undefined, v: Record<string, string | boolean | undefined>): Promise<void> {
    if (!target) throw new UsageError("rollback needs a target: a version like v1.2.3, or previous");
    if (target !== "previous" && checkReleaseValue("version", target)) {
        throw new UsageError(`rollback target ${JSON.stringify(target)} is invalid: must be a version like v2.1.0, or previous`);
    }
    const mode = (v.db as string | undefined) ?? "keep";
    if (!["keep", "down", "restore"].includes(mode)) throw new UsageError(`--db ${JSON.stringify(mode)} is invalid: must be keep, down or restore`);
    const stack = await openStack(requireStack(v));
    checkNotLocked(stack.name);
    const updates = await history(stack);
    const cfg = await stack.getAllConfig();
    const settings = await stackSettings(stack, cfg);
    const serving = await servingVersion(settings);
    const chosen = selectRollbackTarget(updates, target, serving);
    const current = currentRelease(updates)!;
    // What is rolled back from: the release that serves (after a failed switch, the one that switched).
    const fromRow = serving !== undefined && serving !== current.version
        ? historyRows(updates).find(r => r.operation === "update" && r.version === serving) ?? current
        : current;
    const from = { version: fromRow.version, image: fromRow.image, imageDigest: fromRow.imageDigest };
    const rel = releaseConfigOf(updates, chosen.update);

    const dockerHost = settings.get("dockerHost");
    const ref = `${rel.image}@${rel.imageDigest}`;
    // An image already on the host needs no registry (a digest cannot change), as the pull step itself does.
    const dockerEnv = { ...process.env, ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}) };
    for (const image of [ref, ...Object.values(JSON.parse(rel.images || "{}") as Record<string, string>)]) {
        const present = await run("docker", ["image", "inspect", "--format", "{{.Id}}", image], dockerEnv);
        const pull = present.code === 0 ? present : await run("docker", ["pull", "-q", image], dockerEnv);
        if (pull.code !== 0) {
            throw new RefusedError(`${chosen.version}'s image ${image} cannot be pulled (${pull.out.split("\n").pop()}); nothing was changed`);
        }
    }
    const live = await cleanLiveSchema(stack, settings, serving);
    const targetInfo = { version: chosen.version, schemaVersion: Number(rel.schemaVersion), range: rangeOf(rel.schemaMin, rel.schemaMax) };
    if (mode === "keep") {
        const problem = keepRollbackProblem(targetInfo, live, from);
        if (problem) throw new RefusedError(problem);
    }
    if (mode === "down" && live.version > targetInfo.schemaVersion) {
        const downRef = `${from.image}@${from.imageDigest}`;
        let files: string[];
        try {
            files = await imageMigrationFiles(settings, downRef);
        } catch (err) {
            throw new RefusedError(`${(err as Error).message}; nothing was changed`);
        }
        const missing = missingDownsFor(files, live.version, targetInfo.schemaVersion);
        if (missing.length > 0) {
            throw new RefusedError(`--db down from schema ${live.version} to ${targetInfo.schemaVersion} needs the down files of migrations ${missing.join(", ")}, which ${from.version}'s image ${downRef} does not carry; nothing was changed. Use --db restore to restore the dump taken before ${from.version}`);
        }
    }

    const extra: ConfigMap = {
        [pj("kind")]: { value: "rollback" },
        [pj("replacesVersion")]: { value: from.version },
        [pj("dbMode")]: { value: mode },
    };
    const remove = [pj("downImage"), pj("restoreDump"), pj("restoreDumpSha256"), pj("atomicRecoveryOf")];
    if (mode === "down") {
        extra[pj("downImage")] = { value: `${from.image}@${from.imageDigest}` };
    }
    if (mode === "restore") {
        const previous = selectRollbackTarget(updates, "previous", serving);
        if (previous.version !== chosen.version) {
            throw new RefusedError(`--db restore rolls back only to the release just before ${current.version} (${previous.version}), whose pre-release dump it restores; use --db keep or down for ${chosen.version}`);
        }
        const outputs = await stack.outputs();
        const record = outputs.releaseRecord?.value as ReleaseRecord | undefined;
        if (!record || record.version !== current.version) {
            throw new RefusedError(`the stack outputs do not hold ${current.version}'s release record, so its pre-release dump is unknown; nothing was changed`);
        }
        if (record.backup.kind === "safety_before_restore") {
            throw new RefusedError(`${current.version} was itself put in place by a restore, so its record holds a safety dump, not a pre-release dump; nothing was changed. Use --db keep or down`);
        }
        const dump = record.backup.path;
        if (!fs.existsSync(dump)) throw new RefusedError(`restore dump ${dump} does not exist; nothing was changed`);
        const sha = sha256File(dump);
        if (sha !== record.backup.sha256) {
            throw new RefusedError(`restore dump ${dump} has sha256 ${sha}, but the release record says ${record.backup.sha256}; nothing was changed`);
        }
        if (v.yes !== true && v.preview !== true) {
            const warning = `restore overwrites database with ${path.basename(dump)}, discarding every write since ${current.version} was deployed`;
            if (!process.stdin.isTTY) throw new RefusedError(`${warning}; rerun with --yes to confirm`);
            if (!(await confirm(`${warning}.\nA safety backup is taken first. Type ${chosen.version} to continue: `, chosen.version))) {
                throw new RefusedError("restore not confirmed; nothing was changed");
            }
        }
        extra[pj("restoreDump")] = { value: dump };
        extra[pj("restoreDumpSha256")] = { value: sha };
        // Runbook 003 §3: maintenance goes on before the safety backup, so no write is accepted after it.
        if (Number(settings.get("proxyPort")) > 0) {
            extra[pj("maintenance")] = { value: "on" };
            extra[pj("maintenanceMessage")] = { value: `Restoring data to release ${chosen.version}; back shortly.` };
        }
    }

    const snapshot = new ConfigSnapshot(stackConfigFile(stack.name));
    const next: ConfigMap = {};
    for (const key of RELEASE_KEYS) if (rel[key] !== undefined) next[ns(key)] = { value: rel[key] };
    await stack.setAllConfig({ ...next, ...extra });
    const toRemove = remove.filter(k => !(k in extra));
    for (const k of OPTIONAL_RELEASE_KEYS) if (rel[k] === undefined) toRemove.push(ns(k));
    if (toRemove.length > 0) await stack.removeAllConfig(toRemove);
    console.log(`deployctl: rolling back ${stack.name} from ${from.version} to ${chosen.version} (update #${chosen.update}, ${ref}), database: ${mode}, live schema ${live.version}, ${chosen.version} runs on ${showRange(targetInfo.range)}`);
    const before = serving === from.version ? { version: from.version, release: releaseConfigOf(updates, fromRow.update) } : undefined;
    await applyAttempt({
        stack, settings, snapshot, what: "rollback", version: chosen.version, imageRef: ref, before, atomic: atomicOf(v, settings),
    }, v.preview === true, `rollback to ${chosen.version} from ${from.version} (db ${mode})`);
    if (v.preview !== true) console.log(`deployctl: ${stack.name} runs ${chosen.version} again (rolled back from ${from.version})`);
    if (v.preview !== true && extra[pj("maintenance")]) {
        console.log(`deployctl: maintenance stays on: check ${chosen.version}, then: deployctl maintenance off --stack ${stack.name}`);
    }
}

async function cmdMaintenance(state: string | undefined, v: Record<string, string | boolean | undefined>): Promise<void> {
    if (state !== "on" && state !== "off") throw new UsageError(`maintenance needs on or off${state === undefined ? "" : `, not ${JSON.stringify(state)}`}`);
    const message = v.message as string | undefined;
    const bad = message === undefined ? undefined : checkSettingValue("maintenanceMessage", message, "--message");
    if (bad) throw new UsageError(bad);
    if (message !== undefined && state === "off") throw new UsageError("--message goes with maintenance on");
    const stack = await openStack(requireStack(v));
    checkNotLocked(stack.name);
    const cfg = await stack.getAllConfig();
    const settings = await stackSettings(stack, cfg);
    if (Number(settings.get("proxyPort")) === 0) {
        throw new RefusedError(`stack ${stack.name} has no proxy (${pj("proxyPort")} is 0), and the maintenance page is the proxy's; nothing was changed`);
    }
    if (settings.get("maintenance") === state && message === undefined) {
        throw new RefusedError(`maintenance is already ${state} on ${stack.name}; nothing was changed`);
    }
    const version = cfg[ns("version")]?.value;
    if (!version) throw new RefusedError(`stack ${stack.name} has no release yet; deploy one first`);
    const snapshot = new ConfigSnapshot(stackConfigFile(stack.name));
    await stack.setAllConfig({
        [pj("maintenance")]: { value: state },
        ...(message !== undefined ? { [pj("maintenanceMessage")]: { value: message } } : {}),
    });
    const text = state === "on" ? `: ${message ?? settings.get("maintenanceMessage")}` : "";
    try {
        await apply(stack, snapshot, v.preview === true, `maintenance ${state}${text}`);
    } catch (err) {
        if (err instanceof UpdateFailed) {
            const now = await stackSettings(stack);
            throw new Error(`maintenance ${state} failed: ${err.message}; maintenance is ${err.changed ? "unknown: check the proxy" : now.get("maintenance")}, ${await servingVersion(settings) ?? "no release"} serves`);
        }
        throw err;
    }
    if (v.preview !== true) console.log(`deployctl: maintenance ${state} on ${stack.name}${text}; ${version} serves behind it`);
}

/**
 * History rows with the live schema after each update: from the outputs
 * recorded with each successful update, and for the newest update (which may
 * have failed halfway) from the database itself.
 */
async function historyWithLive(stack: Stack): Promise<HistoryRow[]> {
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

async function cmdStatus(v: Record<string, string | boolean | undefined>): Promise<boolean> {
    const stack = await openStack(requireStack(v));
    const st = await readStatus(stack, await stackSettings(stack));
    console.log(v.json === true ? JSON.stringify(st, null, 2) : statusText(st));
    return st.drift.length === 0;
}

async function cmdReleases(v: Record<string, string | boolean | undefined>): Promise<void> {
    const stack = await openStack(requireStack(v));
    const settings = await stackSettings(stack);
    const updates = await history(stack);
    const live = await readLiveSchema(settings).catch(() => undefined);
    const record = (await stack.outputs()).releaseRecord?.value as ReleaseRecord | undefined;
    const rows = await releaseInventory(updates, settings, live, record?.backup, currentRelease(updates)?.version);
    console.log(v.json === true ? JSON.stringify(rows, null, 2) : releasesText(rows, live));
}

async function cmdHistory(v: Record<string, string | boolean | undefined>): Promise<void> {
    const stack = await openStack(requireStack(v));
    const rows = await historyWithLive(stack);
    if (v.json === true) console.log(JSON.stringify(rows, null, 2));
    else console.log(historyTable(rows));
}

async function cmdRecord(version: string | undefined, v: Record<string, string | boolean | undefined>): Promise<void> {
    if (!version || checkReleaseValue("version", version)) throw new UsageError("record needs a release version like v2.1.0");
    const stack = await openStack(requireStack(v));
    const outputs = await stack.outputs();
    const record = outputs.releaseRecord?.value as ReleaseRecord | undefined;
    if (!record || record.version !== version) {
        throw new RefusedError(`${version} is not the release running on ${stack.name} (${record?.version ?? "none"}); deploy or roll back to it first`);
    }
    const rows = (await historyWithLive(stack)).filter(r => r.version === version && r.operation === "update");
    const dir = (v.out as string | undefined) ?? path.join(ROOT, "releases");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${version}.md`);
    fs.writeFileSync(file, renderReleaseMarkdown(record, rows.map(r => ({ kind: r.kind, time: r.time, result: r.result, liveSchema: r.liveSchema }))));
    console.log(file);
}

/**
 * Restore drill: restores a dump into a scratch database (never the live one)
 * and compares every table's row count with the stack's database.
 */
async function cmdRestoreDrill(v: Record<string, string | boolean | undefined>): Promise<void> {
    const dump = v.dump as string | undefined;
    if (!dump) throw new UsageError("--dump FILE is required");
    if (!fs.existsSync(dump)) throw new RefusedError(`dump ${dump} does not exist`);
    const stack = await openStack(requireStack(v));
    const cfg = await stack.getAllConfig();
    const get = (k: string) => cfg[pj(k)]?.value ?? DEFAULTS[k];
    const password = (await stack.getConfig(pj("dbPassword")).catch(() => undefined))?.value;
    if (!password) throw new RefusedError(`${pj("dbPassword")} is not set on stack ${stack.name}`);
    const live = get("dbName");
    const into = (v.into as string | undefined) ?? `restore_drill_${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}`;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(into)) throw new UsageError(`--into ${JSON.stringify(into)} is invalid: must be a PostgreSQL identifier`);
    if (into === live) throw new RefusedError(`--into ${into} is the stack's live database; a drill only restores into a scratch database`);
    const env = { ...process.env, PGHOST: get("dbHost"), PGPORT: get("dbPort"), PGUSER: get("dbUser"), PGPASSWORD: password };
    const sums = path.join(path.dirname(dump), "SHA256SUMS");
    if (fs.existsSync(sums)) {
        const line = fs.readFileSync(sums, "utf8").split("\n").find(l => l.endsWith(`  ${path.basename(dump)}`));
        if (line && line.split(" ")[0] !== sha256File(dump)) throw new RefusedError(`dump ${dump} does not match its sha256 in ${sums}`);
    }
    const list = await run("pg_restore", ["--list", dump], env);
    if (list.code !== 0) throw new RefusedError(`dump ${dump} is unreadable: ${list.out.split("\n")[0]}`);
    const exists = await run("psql", ["-qAtX", "-d", "postgres", "-c", `SELECT 1 FROM pg_database WHERE datname = '${into}'`], env);
    if (exists.out === "1") throw new RefusedError(`database ${into} already exists; choose another --into`);
    const created = await run("createdb", [into], env);
    if (created.code !== 0) throw new Error(`createdb ${into} failed: ${created.out}`);
    try {
        const restored = await run("pg_restore", ["--no-owner", "--exit-on-error", "-d", into, dump], env);
        if (restored.code !== 0) throw new Error(`pg_restore into ${into} failed: ${restored.out.split("\n")[0]}`);
        const count = async (db: string) => parseCounts((await run("psql", ["-qAtX", "-d", db, "-c", COUNT_ROWS_SQL], env)).out);
        const rows = compareCounts(await count(into), await count(live));
        console.log(`restored ${path.basename(dump)} into ${into}; row counts against ${live}:`);
        console.log(countsTable(rows));
        if (rows.length === 0) throw new Error(`the restored copy has no tables: nothing to verify (is ${path.basename(dump)} a dump of ${live}?)`);
        const bad = rows.filter(r => !r.match);
        if (bad.length > 0) throw new Error(`${bad.length} of ${rows.length} tables differ from ${live} (writes since the dump, or a bad dump)`);
        console.log(`deployctl: restore drill passed: ${rows.length} tables, every row count matches ${live}`);
    } finally {
        if (v.keep !== true) await run("dropdb", ["--if-exists", into], env);
    }
}

/**
 * The recovery of a dirty schema: marks version N clean with the migration
 * tool of the release that serves (golang-migrate's `force`). Asks for --yes.
 */
async function cmdForceSchema(n: string | undefined, v: Record<string, string | boolean | undefined>): Promise<void> {
    if (n === undefined || !/^\d+$/.test(n)) throw new UsageError("force-schema needs the schema version to mark clean, a non-negative integer");
    const stack = await openStack(requireStack(v));
    const settings = await stackSettings(stack);
    if (!settings.password) throw new RefusedError(`${pj("dbPassword")} is not set on stack ${stack.name}`);
    const live = await readLiveSchema(settings).catch(err => { throw new RefusedError(`${(err as Error).message}; nothing was changed`); });
    if (!live.dirty) throw new RefusedError(`the database is clean at schema ${live.version}; nothing to force, nothing was changed`);
    const want = Number(n);
    if (want !== live.version && want !== live.version - 1) {
        throw new RefusedError(`force-schema ${want} is refused: the database is dirty at ${live.version}, so the clean version is ${live.version - 1} (its failed migration was rolled back) or ${live.version} (if you completed it by hand); nothing was changed`);
    }
    if (v.yes !== true) throw new RefusedError(`force-schema marks schema ${want} clean without running any migration; check the schema first, then rerun with --yes`);
    const cfg = await stack.getAllConfig();
    const image = `${cfg[ns("image")]?.value}@${cfg[ns("imageDigest")]?.value}`;
    const url = databaseUrl({ host: settings.get("dbHost"), port: Number(settings.get("dbPort")), database: settings.get("dbName"), user: settings.get("dbUser") }, settings.password);
    const dockerHost = settings.get("dockerHost");
    const r = await run("docker", ["run", "--rm", "--network", "host", "-e", "DATABASE_URL", "--entrypoint", settings.get("migrateCommand"), image, "force", String(want)],
        { ...process.env, DATABASE_URL: url, ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}) });
    if (r.code !== 0) throw new Error(`force ${want} with ${image} failed: ${r.out.split("\n").pop()}`);
    const after = await readLiveSchema(settings);
    console.log(`deployctl: schema marked clean at ${after.version} (was dirty at ${live.version}); deploy or roll back again`);
}

function cmdDecide(v: Record<string, string | boolean | undefined>): void {
    const minutes = v["patch-minutes"] as string | undefined;
    if (minutes !== undefined && !/^\d+$/.test(minutes)) throw new UsageError(`--patch-minutes ${JSON.stringify(minutes)} is invalid: must be a whole number of minutes`);
    const d = decide({
        impactingCustomers: yesNo("impacting-customers", v["impacting-customers"] as string | undefined, true)!,
        configFix: yesNo("config-fix", v["config-fix"] as string | undefined, true)!,
        patchMinutes: minutes === undefined ? undefined : Number(minutes),
        regressionInPrior: yesNo("regression-in-prior", v["regression-in-prior"] as string | undefined, false),
    });
    console.log(`recommendation: ${d.action}\nreason: ${d.reason}\nnext: ${d.next}`);
}

/** Opens the --stack stack; an unknown name is refused, naming the stacks there are. */
async function openStack(name: string) {
    try {
        return await openExistingStack(name);
    } catch (err) {
        if (err instanceof StackMissingError) throw new RefusedError(`${err.message}; nothing was changed`);
        throw err;
    }
}

function requireStack(v: Record<string, string | boolean | undefined>): string {
    const s = v.stack;
    if (typeof s !== "string" || s === "") throw new UsageError("--stack is required");
    if (!/^[A-Za-z0-9_.-]+$/.test(s)) throw new UsageError(`--stack ${JSON.stringify(s)} is invalid: letters, digits, _ . - only`);
    return s;
}

export async function main(argv: string[]): Promise<number> {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            allowPositionals: true,
            tokens: true,
            options: {
                stack: { type: "string" }, json: { type: "boolean" }, yes: { type: "boolean" }, preview: { type: "boolean" },
                db: { type: "string" }, out: { type: "string" }, dump: { type: "string" }, into: { type: "string" }, keep: { type: "boolean" },
                version: { type: "string" }, image: { type: "string" }, digest: { type: "string" }, sha: { type: "string" },
                schema: { type: "string" }, notes: { type: "string" }, atomic: { type: "boolean" },
                service: { type: "string", multiple: true }, message: { type: "string" },
                "schema-min": { type: "string" }, "schema-max": { type: "string" },
                "impacting-customers": { type: "string" }, "config-fix": { type: "string" },
                "patch-minutes": { type: "string" }, "regression-in-prior": { type: "string" },
                help: { type: "boolean", short: "h" },
            },
        });
    } catch (err) {
        console.error(`deployctl: ${(err as Error).message.split("\n")[0]} (see deployctl --help)`);
        return 2;
    }
    const [cmd, arg] = parsed.positionals;
    const v = parsed.values as Record<string, string | boolean | undefined>;
    if (v.help && cmd && HELP[cmd]) {
        console.log(HELP[cmd]);
        return 0;
    }
    // A flag given twice is refused rather than silently taking the last value.
    const seen = new Map<string, string>();
    for (const t of parsed.tokens ?? []) {
        if (t.kind !== "option" || t.name === "service") continue;
        const value = t.value ?? "";
        if (seen.has(t.name)) {
            console.error(`deployctl: --${t.name} is given twice (${JSON.stringify(seen.get(t.name))} and ${JSON.stringify(value)}): give it once`);
            return 2;
        }
        seen.set(t.name, value);
    }
    // The user's selected stack is left as it was.
    const selected = cmd && cmd !== "decide" ? await selectedStack().catch(() => undefined) : undefined;
    try {
        switch (cmd) {
            case "deploy": await cmdDeploy(v); break;
            case "rollback": await cmdRollback(arg, v); break;
            case "history": await cmdHistory(v); break;
            case "status": if (!(await cmdStatus(v))) return 1; break;
            case "releases": await cmdReleases(v); break;
            case "record": await cmdRecord(arg, v); break;
            case "decide": cmdDecide(v); break;
            case "restore": await cmdRestoreDrill(v); break;
            case "force-schema": await cmdForceSchema(arg, v); break;
            case "maintenance": await cmdMaintenance(arg, v); break;
            default:
                if (v.help) { console.log(USAGE); return 0; }
                console.error(cmd ? `deployctl: unknown command ${JSON.stringify(cmd)} (see deployctl --help)` : USAGE);
                return 2;
        }
        return 0;
    } catch (err) {
        const e = err as Error;
        console.error(`deployctl: ${e.message.split("\n")[0]}`);
        return e instanceof UsageError || e instanceof RefusedError ? 2 : 1;
    } finally {
        if (cmd && cmd !== "decide") await restoreSelection(selected).catch(() => undefined);
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(code => { process.exitCode = code; });
}
