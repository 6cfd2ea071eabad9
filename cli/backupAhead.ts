// A deploy's verified backup, started when the update starts instead of when
// the engine reaches the backup step (about 1.5 s of engine start later): the
// same script (components/scripts/backup.sh) with the same settings, which the
// backup step then takes as its own (see the script's header). The step still
// ends only once the dump is verified, so nothing after it moves earlier; the
// dump only begins a moment sooner, which a deploy without maintenance allows,
// as the engine's own step would begin without a pause too.
import { ChildProcess, spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { backupScriptText, scriptFile } from "../components/shell";
import { pgEnvOf, StackSettings } from "./live";

/** The backup step's environment for a deploy's pre-release dump, as components/databaseBackup.ts sets it from the same settings. */
export function backupEnv(settings: StackSettings, version: string): Record<string, string> {
    const pg = pgEnvOf(settings);
    return {
        // Integers as the program passes them (String(Number(...))), so that 05432 is 5432 on both sides.
        PGHOST: pg.PGHOST!, PGPORT: String(Number(pg.PGPORT)), PGDATABASE: pg.PGDATABASE!, PGUSER: pg.PGUSER!, PGPASSWORD: pg.PGPASSWORD!,
        BACKUP_DIR: settings.get("backupDir"), BACKUP_PREFIX: "pre_release", RELEASE_VERSION: version,
        BACKUP_VERIFY: settings.get("backupVerify"), BACKUP_RETAIN: String(Number(settings.get("backupRetain"))),
    };
}

/**
 * backup.sh's backup_fingerprint of an environment: the sha256 of what is dumped, where and how, one
 * `KEY=value` line each, in its order. Not the password: no hash of it is written anywhere.
 */
export function backupFingerprint(env: Record<string, string | undefined>): string {
    const keys = ["PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "BACKUP_DIR", "BACKUP_PREFIX", "RELEASE_VERSION", "BACKUP_VERIFY", "BACKUP_RETAIN", "SKIP_AT_SCHEMA"];
    return createHash("sha256").update(keys.map(k => `${k}=${env[k] ?? ""}\n`).join("")).digest("hex");
}

/** Why a deploy takes its backup in the engine's step only, or undefined when it may start ahead. */
export function aheadBlocker(settings: StackSettings, identityChanges: boolean): string | undefined {
    if (settings.get("backupAhead") === "false") return "backupAhead is false";
    // The step runs only when the release's identity changes (its triggers); otherwise a dump would be for nothing.
    if (!identityChanges) return "the release's identity is unchanged, so the backup step does not run";
    // With maintenance on, the program's maintenance step precedes the backup (no write is accepted after the
    // dump begins); the backup then waits for the engine.
    if (settings.get("maintenance") === "on") return "maintenance is on, and the backup follows the maintenance step";
    return undefined;
}

/** A backup run started ahead of the engine; `env` goes to `pulumi up`, `finish` after it. */
export class BackupAhead {
    private readonly exited: Promise<void>;

    private constructor(private readonly dir: string, private readonly child: ChildProcess) {
        // A run that could not start (no bash) counts as ended: the step then finds no result and takes its own dump.
        this.exited = new Promise(resolve => {
            child.once("exit", () => resolve());
            child.once("error", () => resolve());
        });
    }

    /**
     * Starts backup.sh with `env` through components/scripts/backup-ahead.sh, in its own process
     * group, its output and exit code going to a new private directory.
     */
    static start(env: Record<string, string>): BackupAhead {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deployctl-backup-"));
        const { BACKUP_AHEAD: _ignored, ...inherited } = process.env; // eslint-disable-line @typescript-eslint/no-unused-vars
        // stdin stays open as the run's lifeline: if deployctl ends without finish(), the run is stopped.
        const child = spawn("/bin/bash", ["-c", scriptFile("backup-ahead.sh")], {
            env: { ...inherited, ...env, BACKUP_SCRIPT: backupScriptText(), BACKUP_AHEAD_DIR: dir }, stdio: ["pipe", "ignore", "ignore"], detached: true,
        });
        child.stdin?.on("error", () => undefined); // a closed lifeline is no failure
        const ahead = new BackupAhead(dir, child);
        fs.writeFileSync(path.join(dir, "pid"), `${child.pid}\n`);
        // Written last: the step looks for the fingerprint.
        fs.writeFileSync(path.join(dir, "fingerprint"), `${backupFingerprint(env)}\n`);
        return ahead;
    }

    /** What `pulumi up` passes on to the backup step (the command provider gives each command its environment). */
    get env(): Record<string, string> {
        return { BACKUP_AHEAD: this.dir };
    }

    /** Whether the run has ended (its exit code is written). */
    get ended(): boolean {
        return this.has("rc");
    }

    /** Whether its dump is verified (it then waits for a claim before it becomes a dump). */
    get verified(): boolean {
        return this.has("verified");
    }

    private has(name: string): boolean {
        return fs.existsSync(path.join(this.dir, name));
    }

    /**
     * After the update. A run whose output a backup step replayed is done. Any other is stopped: a
     * run no step claimed never became a dump and removes its partial dump and scratch database; one
     * claimed by a step that was then cancelled may have become a dump, which stays. Resolves with a
     * line for the operator about a run no step replayed, and removes the directory.
     */
    async finish(): Promise<string | undefined> {
        const replayed = this.has("replayed");
        if (!replayed) {
            try {
                process.kill(-this.child.pid!, "SIGTERM");
            } catch {
                // already gone
            }
        }
        await this.exited;
        this.child.stdin?.end();
        const read = (name: string) => this.has(name) ? fs.readFileSync(path.join(this.dir, name), "utf8") : "";
        const dump = /^backup: (\S+) verified by/m.exec(read("out"))?.[1];
        const failed = read("err").trim().split("\n").filter(l => l.startsWith("backup failed:")).pop();
        const taken = this.has("taken");
        fs.rmSync(this.dir, { recursive: true, force: true });
        if (replayed) return undefined;
        if (dump) return `the backup started with the update was claimed by a backup step that did not finish; its verified dump stays: ${dump}`;
        if (failed) return `the backup started with the update failed, and no backup step reported it: ${failed}`;
        return taken
            ? "the backup started with the update was claimed by a backup step that did not finish; it was stopped and removed its partial dump and scratch database"
            : "the backup started with the update was not needed (no backup step took it); it was stopped before it became a dump and removed its partial dump and scratch database";
    }
}
