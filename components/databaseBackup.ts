// Pre-release database backup: pg_dump -Fc, verified, checksummed, never deleted by Pulumi.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { BASH, bashScript, lastJsonLine } from "./shell";
import { childOpts } from "./options";

/** What a finished backup reports (the last line of the command's stdout). */
export interface BackupResult {
    path: string;
    sha256: string;
    bytes: number;
    verified: "restore" | "list";
    takenAt: string;
    /** Seconds pg_dump took. */
    dumpSeconds: number;
    /** Seconds the verification took. */
    verifySeconds: number;
}

/**
 * The backup script. Reads PGHOST/PGPORT/PGUSER/PGDATABASE/PGPASSWORD,
 * BACKUP_DIR, RELEASE_VERSION, BACKUP_VERIFY and BACKUP_RETAIN from its
 * environment. The dump is written under a temporary name, verified, fsynced
 * and only then renamed to pre_release_<version>_<UTC timestamp>.dump (never
 * over an existing file), so a dump under its final name is always complete
 * and verified, and no dump is ever overwritten.
 */
export function backupScript(): string {
    return bashScript(
        "umask 077",
        'mkdir -p "$BACKUP_DIR" || { echo "backup: cannot create $BACKUP_DIR" >&2; exit 1; }',
        '[ -w "$BACKUP_DIR" ] || { echo "backup: $BACKUP_DIR is not writable" >&2; exit 1; }',
        "ts=$(date -u +%Y%m%dT%H%M%SZ)",
        'final="$BACKUP_DIR/pre_release_${RELEASE_VERSION}_${ts}.dump"',
        'n=1; while [ -e "$final" ]; do n=$((n + 1)); final="$BACKUP_DIR/pre_release_${RELEASE_VERSION}_${ts}_$n.dump"; done',
        'tmp="$final.partial.$$"',
        'scratch=""',
        'cleanup() { [ -z "$tmp" ] || rm -f "$tmp"; if [ -n "$scratch" ]; then dropdb --no-password --if-exists "$scratch" >/dev/null 2>&1 || true; fi; }',
        "trap cleanup EXIT",
        'pg_isready -q -t 10 || { echo "backup: database $PGDATABASE at $PGHOST:$PGPORT is not reachable; nothing was changed" >&2; exit 1; }',
        'echo "backup: pg_dump -Fc $PGDATABASE at $PGHOST:$PGPORT"',
        "t0=$EPOCHREALTIME",
        'pg_dump -Fc --no-password -f "$tmp" || { echo "backup: pg_dump failed; nothing was changed" >&2; exit 1; }',
        "t1=$EPOCHREALTIME",
        'sync "$tmp"',
        'pg_restore --list "$tmp" >/dev/null || { echo "backup: dump is unreadable (pg_restore --list failed); nothing was changed" >&2; exit 1; }',
        "verified=list",
        'if [ "$BACKUP_VERIFY" = restore ]; then',
        '  scratch="verify_${ts,,}_$$"',
        '  createdb --no-password "$scratch"',
        '  pg_restore --no-password --no-owner --exit-on-error -d "$scratch" "$tmp" || { echo "backup: verification restore into a scratch database failed; nothing was changed" >&2; exit 1; }',
        '  dropdb --no-password "$scratch"; scratch=""',
        "  verified=restore",
        "fi",
        "t2=$EPOCHREALTIME",
        'dump_s=$(awk -v a="$t0" -v b="$t1" \'BEGIN { printf "%.2f", b - a }\'); verify_s=$(awk -v a="$t1" -v b="$t2" \'BEGIN { printf "%.2f", b - a }\')',
        'sha=$(sha256sum "$tmp" | cut -d" " -f1)',
        'bytes=$(stat -c %s "$tmp")',
        'echo "$sha  $(basename "$final")" >>"$BACKUP_DIR/SHA256SUMS" || { echo "backup: cannot write $BACKUP_DIR/SHA256SUMS; nothing was changed" >&2; exit 1; }',
        'mv -n "$tmp" "$final"',
        '[ ! -e "$tmp" ] || { keep=$tmp; tmp=""; echo "backup: $final appeared while writing; both kept, this dump stays at $keep" >&2; exit 1; }',
        'sync "$BACKUP_DIR"',
        'echo "backup: $final verified by $verified, sha256 $sha, $bytes bytes (dump ${dump_s}s, verification ${verify_s}s)"',
        'if [ "$BACKUP_RETAIN" -gt 0 ]; then',
        '  ls -1t "$BACKUP_DIR"/pre_release_*.dump | tail -n +$((BACKUP_RETAIN + 1)) | while read -r old; do',
        '    echo "backup: retention keeps the newest $BACKUP_RETAIN dumps; removing $old"; rm -f -- "$old"',
        "  done",
        "fi",
        'printf \'{"path":"%s","sha256":"%s","bytes":%s,"verified":"%s","takenAt":"%s","dumpSeconds":%s,"verifySeconds":%s}\\n\' "$final" "$sha" "$bytes" "$verified" "$ts" "$dump_s" "$verify_s"',
    );
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
    /** Release version the backup precedes; part of the dump's file name. */
    readonly version: pulumi.Input<string>;
    /** The release identity: a new backup is taken whenever it changes, and only then. */
    readonly triggers: pulumi.Input<pulumi.Input<string>[]>;
    /** `restore` (into a scratch database) or `list` (pg_restore --list). */
    readonly verify: pulumi.Input<"restore" | "list">;
    /** Keep only the newest N dumps; 0 keeps all. */
    readonly retain: pulumi.Input<number>;
}

/** A verified pg_dump taken before a release's migrations. */
export class DatabaseBackup extends pulumi.ComponentResource {
    /** Absolute path of the dump. */
    public readonly path: pulumi.Output<string>;
    /** sha256 of the dump. */
    public readonly sha256: pulumi.Output<string>;
    /** Size of the dump in bytes. */
    public readonly bytes: pulumi.Output<number>;
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
                BACKUP_VERIFY: args.verify,
                BACKUP_RETAIN: pulumi.output(args.retain).apply(String),
            },
            triggers: args.triggers,
        }, childOpts(this, opts));
        const result = this.command.stdout.apply(out => lastJsonLine<BackupResult>(out));
        this.path = result.path;
        this.sha256 = result.sha256;
        this.bytes = result.bytes;
        this.registerOutputs({ path: this.path, sha256: this.sha256, bytes: this.bytes });
    }
}
