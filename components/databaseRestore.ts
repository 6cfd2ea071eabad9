// Rollback with dbMode=restore: put back the dump taken just before the release being rolled back.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { DatabaseConnection, pgEnv } from "./databaseBackup";
import { BASH, bashScript } from "./shell";
import { childOpts } from "./options";

/**
 * Reads PG* and RESTORE_DUMP, RESTORE_SHA256. Refuses a missing dump or one
 * whose checksum differs from the record, then restores it in one
 * transaction (pg_restore --clean --if-exists --single-transaction), so a
 * failed restore leaves the database as it was. The safety backup of the
 * current database is the DatabaseBackup this resource depends on.
 */
export function restoreScript(): string {
    return bashScript(
        '[ -f "$RESTORE_DUMP" ] || { echo "restore: dump $RESTORE_DUMP does not exist" >&2; exit 1; }',
        'sha=$(sha256sum "$RESTORE_DUMP" | cut -d" " -f1)',
        '[ "$sha" = "$RESTORE_SHA256" ] || { echo "restore: $RESTORE_DUMP has sha256 $sha, but the release record says $RESTORE_SHA256; refusing" >&2; exit 1; }',
        'pg_restore --list "$RESTORE_DUMP" >/dev/null',
        'echo "restore: pg_restore --clean --if-exists $RESTORE_DUMP into $PGDATABASE"',
        'pg_restore --no-password --clean --if-exists --no-owner --single-transaction --exit-on-error -d "$PGDATABASE" "$RESTORE_DUMP"',
        'echo "restore: done"',
    );
}

export interface DatabaseRestoreArgs {
    /** Connection of the database to overwrite. */
    readonly db: DatabaseConnection;
    /** The dump to restore. */
    readonly dump: pulumi.Input<string>;
    /** Its recorded sha256. */
    readonly sha256: pulumi.Input<string>;
}

/** Restores a recorded pre-release dump over the current database. */
export class DatabaseRestore extends pulumi.ComponentResource {
    /** The restore's report. */
    public readonly report: pulumi.Output<string>;

    constructor(name: string, args: DatabaseRestoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-server:release:DatabaseRestore", name, {}, opts);
        const cmd = new command.local.Command(`${name}-restore`, {
            interpreter: BASH,
            create: restoreScript(),
            environment: { ...pgEnv(args.db), RESTORE_DUMP: args.dump, RESTORE_SHA256: args.sha256 },
            triggers: [args.dump, args.sha256],
        }, childOpts(this, opts));
        this.report = cmd.stdout;
        this.registerOutputs({ report: this.report });
    }
}
