// Schema migrations run from the release image itself, so code and migrations are pinned together.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { BASH, lastJsonLine, scriptFile, withDockerHost } from "./shell";
import { SchemaRange } from "./schema";
import { childOpts } from "./options";

/** The migration script: components/scripts/migrate.sh. */
export function migrateScript(): string {
    return scriptFile("migrate.sh", "image-lib.sh", "ahead-lib.sh");
}

export interface MigrationsArgs {
    /** The release image, repo@sha256:..., whose migration tool and files run. */
    readonly imageRef: pulumi.Input<string>;
    /** Path of the migration tool inside the image. */
    readonly migrateCommand: pulumi.Input<string>;
    /** Schema version the release needs. */
    readonly targetVersion: pulumi.Input<number>;
    /** The schema versions the release's code runs on; the result must lie inside. */
    readonly range: SchemaRange;
    /** Where the image keeps its migration files. */
    readonly migrationsDir: pulumi.Input<string>;
    /** Refuse an up-migration that has no down file. */
    readonly requireDown: boolean;
    /** The stack's name, for the recovery command in messages. */
    readonly stack: string;
    /** keep, down or restore (see DESIGN: rollback modes). */
    readonly dbMode: pulumi.Input<string>;
    /** For dbMode=down: the image rolled back from. */
    readonly downImage: pulumi.Input<string>;
    /** postgres:// URL of the database; secret. */
    readonly databaseUrl: pulumi.Input<string>;
    /** Docker engine address (DOCKER_HOST); empty inherits the deploying shell's. */
    readonly dockerHost: string;
    /** Re-run only when these change (the release identity and the rollback mode). */
    readonly triggers: pulumi.Input<pulumi.Input<string>[]>;
    /** For an app-only rollback, what the backup step took (none: no dump, so no schema may change). */
    readonly backupTaken?: pulumi.Input<string>;
    /**
     * With backupTaken none: the clean schema the backup step read and when, as
     * `<version>@<epoch seconds>` (empty when it took a dump). Read within the last minute
     * (in this same update: this step may also re-run alone, on a change of its own inputs,
     * with the backup's old outputs), at or ahead of the target in keep mode, nothing can
     * run, so the step takes this reading instead of starting the release image's tool.
     */
    readonly backupSchema?: pulumi.Input<string>;
}

/** Moves the schema to the release's version with the release image's own migration tool. */
export class Migrations extends pulumi.ComponentResource {
    /** Schema version before the run. */
    public readonly fromVersion: pulumi.Output<number>;
    /** Schema version after the run. */
    public readonly toVersion: pulumi.Output<number>;
    /** Whether the schema is dirty after the run (it never is when the run succeeds). */
    public readonly dirty: pulumi.Output<boolean>;
    /** The command resource that migrates. */
    public readonly command: command.local.Command;

    constructor(name: string, args: MigrationsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-server:release:Migrations", name, {}, opts);
        const env: Record<string, pulumi.Input<string>> = {
            IMAGE_REF: args.imageRef,
            MIGRATE_CMD: args.migrateCommand,
            TARGET: pulumi.output(args.targetVersion).apply(String),
            SCHEMA_MIN: args.range.min === undefined ? "" : String(args.range.min),
            SCHEMA_MAX: args.range.max === undefined ? "" : String(args.range.max),
            MIGRATIONS_DIR: args.migrationsDir,
            REQUIRE_DOWN: String(args.requireDown),
            STACK: args.stack,
            DB_MODE: args.dbMode,
            DOWN_IMAGE: args.downImage,
            DATABASE_URL: pulumi.secret(args.databaseUrl),
            ...(args.backupTaken !== undefined ? { BACKUP_TAKEN: args.backupTaken } : {}),
            ...(args.backupSchema !== undefined ? { BACKUP_SCHEMA: args.backupSchema } : {}),
        };
        this.command = new command.local.Command(`${name}-migrate`, {
            interpreter: BASH,
            create: migrateScript(),
            environment: withDockerHost(env, args.dockerHost),
            triggers: args.triggers,
        }, childOpts(this, opts));
        const result = this.command.stdout.apply(out => lastJsonLine<{ from: number; to: number; dirty?: boolean }>(out));
        this.fromVersion = result.from;
        this.toVersion = result.to;
        this.dirty = result.apply(r => r.dirty === true);
        this.registerOutputs({ fromVersion: this.fromVersion, toVersion: this.toVersion, dirty: this.dirty });
    }
}
