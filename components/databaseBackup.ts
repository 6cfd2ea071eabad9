// Pre-release database backup: pg_dump -Fc, verified, checksummed, never deleted by Pulumi.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { backupScriptText, BASH, lastJsonLine } from "./shell";
import { childOpts } from "./options";

/** What a finished backup reports (the last line of the command's stdout). */
export interface BackupResult {
    path: string;
    sha256: string;
    bytes: number;
    /** How the dump was verified; none when no dump was taken. */
    verified: "restore" | "list" | "none";
    takenAt: string;
    /** Seconds pg_dump took. */
    dumpSeconds: number;
    /** Seconds the verification took. */
    verifySeconds: number;
    /** pre_release, safety_before_restore for the safety dump of a restore, or none (an app-only rollback took no dump). */
    kind: BackupKind | "none";
    /** With kind none: the clean schema version the step read (at or ahead of skipAtSchema). */
    liveSchema?: number;
    /** With kind none: when it read it (epoch seconds). */
    readAt?: number;
}

/** What a dump is: the one taken before a release's migrations, or the safety dump before a restore. */
export type BackupKind = "pre_release" | "safety_before_restore";

/** The backup script: components/scripts/backup.sh. */
export function backupScript(): string {
    return backupScriptText();
}

export interface DatabaseConnection {
    /** Database host. */
    readonly host: pulumi.Input<string>;
    /** Database port. */
    readonly port: pulumi.Input<number>;
    /** Database name. */
    readonly database: pulumi.Input<string>;
    /** Database role. */
    readonly user: pulumi.Input<string>;
    /** Password of the role; kept secret. */
    readonly password: pulumi.Input<string>;
}

/** libpq environment for a connection; the password stays a secret Output. */
export function pgEnv(db: DatabaseConnection): Record<string, pulumi.Input<string>> {
    return {
        PGHOST: db.host,
        PGPORT: pulumi.output(db.port).apply(String),
        PGDATABASE: db.database,
        PGUSER: db.user,
        PGPASSWORD: pulumi.secret(db.password),
    };
}

export interface DatabaseBackupArgs {
    /** Connection of the database to dump. */
    readonly db: DatabaseConnection;
    /** Directory the dump is written to. */
    readonly backupDir: pulumi.Input<string>;
    /** Release version the backup precedes (or, for a safety dump, whose data it holds); part of the file name. */
    readonly version: pulumi.Input<string>;
    /** pre_release, or safety_before_restore (a name nobody mistakes for a pre-release dump). */
    readonly kind: BackupKind;
    /** The release identity: a new backup is taken whenever it changes, and only then. */
    readonly triggers: pulumi.Input<pulumi.Input<string>[]>;
    /** `restore` (into a scratch database) or `list` (pg_restore --list). */
    readonly verify: pulumi.Input<"restore" | "list">;
    /** Keep only the newest N dumps; 0 keeps all. */
    readonly retain: pulumi.Input<number>;
    /**
     * For an app-only rollback: the release's target schema. No dump is taken when the
     * database is clean at it or ahead (the update then changes no schema); a database
     * behind it or dirty gets a dump as always.
     */
    readonly skipAtSchema?: pulumi.Input<number>;
    /** The migration tool's version table, read when skipAtSchema is set. */
    readonly schemaTable?: pulumi.Input<string>;
}

/** A verified pg_dump taken before a release's migrations. */
export class DatabaseBackup extends pulumi.ComponentResource {
    /** Absolute path of the dump. */
    public readonly path: pulumi.Output<string>;
    /** sha256 of the dump. */
    public readonly sha256: pulumi.Output<string>;
    /** Size of the dump in bytes. */
    public readonly bytes: pulumi.Output<number>;
    /** pre_release or safety_before_restore. */
    public readonly kind: BackupKind;
    /** What was taken: the kind, or none when an app-only rollback took no dump. */
    public readonly taken: pulumi.Output<BackupKind | "none">;
    /** When no dump was taken: the clean schema it read and when, as `<version>@<epoch seconds>`; empty otherwise. */
    public readonly schemaRead: pulumi.Output<string>;
    /** The command resource that takes the dump. */
    public readonly command: command.local.Command;

    constructor(name: string, args: DatabaseBackupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-server:release:DatabaseBackup", name, {}, opts);
        this.command = new command.local.Command(`${name}-dump`, {
            interpreter: BASH,
            create: backupScript(),
            // No delete command: `pulumi destroy` or a replacement never removes a dump.
            environment: {
                ...pgEnv(args.db),
                BACKUP_DIR: args.backupDir,
                RELEASE_VERSION: args.version,
                BACKUP_PREFIX: args.kind,
                BACKUP_VERIFY: args.verify,
                BACKUP_RETAIN: pulumi.output(args.retain).apply(String),
                ...(args.skipAtSchema !== undefined ? {
                    SKIP_AT_SCHEMA: pulumi.output(args.skipAtSchema).apply(String),
                    SCHEMA_TABLE: args.schemaTable ?? "schema_migrations",
                } : {}),
            },
            triggers: args.triggers,
        }, childOpts(this, opts));
        const result = this.command.stdout.apply(out => lastJsonLine<BackupResult>(out));
        this.path = result.path;
        this.sha256 = result.sha256;
        this.bytes = result.bytes;
        this.kind = args.kind;
        this.taken = result.apply(r => r.kind ?? args.kind);
        this.schemaRead = result.apply(r => r.kind === "none" && Number.isInteger(r.liveSchema) && Number.isInteger(r.readAt) ? `${r.liveSchema}@${r.readAt}` : "");
        this.registerOutputs({ path: this.path, sha256: this.sha256, bytes: this.bytes, kind: this.kind, taken: this.taken, schemaRead: this.schemaRead });
    }
}
