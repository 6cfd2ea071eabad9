// deployctl rollback: puts a release from the stack's history back, with the config it was deployed with.
import { ConfigMap } from "../pulumiCli";
import { Command } from "commander";
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { checkReleaseValue, OPTIONAL_RELEASE_KEYS, RELEASE_KEYS } from "../../components/config";
import { ReleaseRecord } from "../../components/record";
import { keepRollbackProblem, missingDownsFor, rangeOf, showRange } from "../../components/schema";
import { checkNotLocked, flag, history, ns, openStack, pj, RefusedError, requireStack, stackOption, UsageError } from "../common";
import { currentRelease, historyRows, releaseConfigOf, selectRollbackTarget } from "../history";
import { dockerEnvOf, imageMigrationFiles, run, servingVersion, sha256File, stackHosts, stackSettings } from "../live";
import { overrideOf, provenanceGate } from "../provenance";
import { Notifier, releaseImages, webhookOf } from "../notify";
import { applyAttempt, atomicOf, cleanLiveSchema, ConfigSnapshot } from "../update";
import { stackConfigFile } from "../workspace";

interface RollbackOptions {
    stack?: string; db?: string; atomic?: boolean; yes?: boolean; preview?: boolean; overrideProvenance?: string;
}

export function registerRollback(program: Command): void {
    program.command("rollback")
        .summary("put a release from the stack's history back")
        .usage("<vX.Y.Z|previous> --stack S [--db keep|down|restore] [--atomic] [--yes] [--preview]")
        .description(`Puts a release from the stack's history back, with the config it was deployed
with. What happens to the database:
  --db keep     app only (the default); refused when the live schema is
                outside the target's range
  --db down     run the newer image's down migrations to the target's schema
                first
  --db restore  restore the target's pre-release dump (a safety dump is taken
                first; asks unless --yes)`)
        // Optional here so that a missing target gets this command's own message (checked in cmdRollback).
        .argument("[target]", "a version like v1.2.3 from the stack's history, or previous")
        .addOption(stackOption())
        .addOption(flag("--db <keep|down|restore>", "what happens to the database: keep (the default), down or restore, as above"))
        .addOption(flag("--atomic", "put the release rolled back from back if the update fails after the switch"))
        .addOption(flag("--yes", "confirm a --db restore without asking"))
        .addOption(flag("--override-provenance <REASON>", "go ahead although the provenance check fails (an emergency); the reason is recorded"))
        .addOption(flag("--preview", "show what would change, change nothing"))
        .addHelpText("after", "\nexample: deployctl rollback previous --stack prod --db down")
        .action((target: string | undefined, opts: RollbackOptions) => cmdRollback(target, opts));
}

async function cmdRollback(target: string | undefined, v: RollbackOptions): Promise<void> {
    if (!target) throw new UsageError("rollback needs a target: a version like v1.2.3, or previous");
    if (target !== "previous" && checkReleaseValue("version", target)) {
        throw new UsageError(`rollback target ${JSON.stringify(target)} is invalid: must be a version like v2.1.0, or previous`);
    }
    const override = overrideOf(v.overrideProvenance);
    const mode = v.db ?? "keep";
    if (!["keep", "down", "restore"].includes(mode)) throw new UsageError(`--db ${JSON.stringify(mode)} is invalid: must be keep, down or restore`);
    const stack = await openStack(requireStack(v));
    checkNotLocked(stack.name);
    // The history and the config are read at once (two CLI calls), then what serves.
    const [updates, cfg] = await Promise.all([history(stack), stack.getAllConfig()]);
    const settings = await stackSettings(stack, cfg);
    const notifier = new Notifier(webhookOf(cfg));
    const serving = await servingVersion(settings);
    const chosen = selectRollbackTarget(updates, target, serving);
    const current = currentRelease(updates)!;
    // What is rolled back from: the release that serves (after a failed switch, the one that switched).
    const fromRow = serving !== undefined && serving !== current.version
        ? historyRows(updates).find(r => r.operation === "update" && r.version === serving) ?? current
        : current;
    const from = { version: fromRow.version, image: fromRow.image, imageDigest: fromRow.imageDigest };
    const rel = releaseConfigOf(updates, chosen.update);

    const ref = `${rel.image}@${rel.imageDigest}`;
    // On every host, side by side: an image already there needs no registry (a digest cannot change), as the pull step itself does.
    const hosts = stackHosts(settings);
    await Promise.all(hosts.map(async host => {
        const dockerEnv = dockerEnvOf(settings, host);
        for (const image of [ref, ...Object.values(JSON.parse(rel.images || "{}") as Record<string, string>)]) {
            const present = await run("docker", ["image", "inspect", "--format", "{{.Id}}", image], dockerEnv);
            const pull = present.code === 0 ? present : await run("docker", ["pull", "-q", image], dockerEnv);
            if (pull.code !== 0) {
                const where = host.listed ? ` on host ${host.name}` : "";
                throw new RefusedError(`${chosen.version}'s image ${image} cannot be pulled${where} (${pull.out.split("\n").pop()}); nothing was changed`);
            }
        }
    }));
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
    const remove = [pj("downImage"), pj("restoreDump"), pj("restoreDumpSha256"), pj("atomicRecoveryOf"), pj("provenanceOverride")];
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
        if (record.backup.kind === "none") {
            throw new RefusedError(`${current.version} was put in place by an app-only rollback, which changed no schema and took no dump, so there is no dump taken just before it; nothing was changed. Use --db keep or down, or check an older dump with deployctl restore (a drill into a scratch database)`);
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

    const overridden = await provenanceGate(`rollback to ${chosen.version}`, { version: chosen.version, gitSha: rel.gitSha, imageRef: ref }, settings, override);
    if (overridden) extra[pj("provenanceOverride")] = { value: overridden };

    const snapshot = new ConfigSnapshot(stackConfigFile(stack.name));
    const next: ConfigMap = {};
    for (const key of RELEASE_KEYS) if (rel[key] !== undefined) next[ns(key)] = { value: rel[key] };
    const toRemove = remove.filter(k => !(k in extra));
    for (const k of OPTIONAL_RELEASE_KEYS) if (rel[k] === undefined) toRemove.push(ns(k));
    const stale = snapshot.maySet(toRemove.filter(k => k in cfg));
    if (stale.length > 0) await stack.removeAllConfig(stale);
    console.log(`deployctl: rolling back ${stack.name} from ${from.version} to ${chosen.version} (update #${chosen.update}, ${ref}), database: ${mode}, live schema ${live.version}, ${chosen.version} runs on ${showRange(targetInfo.range)}`);
    const before = serving === from.version ? { version: from.version, release: releaseConfigOf(updates, fromRow.update) } : undefined;
    await applyAttempt({
        stack, settings, snapshot, what: "rollback", version: chosen.version, imageRef: ref, before, atomic: atomicOf(v, settings), config: { ...next, ...extra },
        notices: { notifier, images: releaseImages(settings.get("services"), settings.get("appName"), ref, rel.images) },
    }, v.preview === true, `rollback to ${chosen.version} from ${from.version} (db ${mode})`);
    if (v.preview !== true) console.log(`deployctl: ${stack.name} runs ${chosen.version} again (rolled back from ${from.version})`);
    if (v.preview !== true && extra[pj("maintenance")]) {
        notifier.send({ event: "maintenance.on", stack: stack.name, version: chosen.version, images: {}, message: extra[pj("maintenanceMessage")].value });
        await notifier.flush();
        console.log(`deployctl: maintenance stays on: check ${chosen.version}, then: deployctl maintenance off --stack ${stack.name}`);
    }
}

async function confirm(question: string, expected: string): Promise<boolean> {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    const answer = await new Promise<string>(resolve => rl.question(question, resolve));
    rl.close();
    return answer.trim() === expected;
}
