// Rollback with dbMode=restore: put back the dump taken just before the release being rolled back.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { DatabaseConnection, pgEnv } from "./databaseBackup";
import { BASH, scriptFile } from "./shell";
import { childOpts } from "./options";

/** The restore: components/scripts/restore.sh. */
export function restoreScript(): string {
    return scriptFile("restore.sh");
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
