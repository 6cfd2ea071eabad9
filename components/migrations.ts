// Schema migrations run from the release image itself, so code and migrations are pinned together.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { BASH, bashScript, lastJsonLine, withDockerHost } from "./shell";
import { childOpts } from "./options";

/**
 * The migration script. Reads IMAGE_REF (the release image, repo@digest),
 * MIGRATE_CMD (the tool's path in the image), TARGET (schema version),
 * DB_MODE and DOWN_IMAGE, and DATABASE_URL (secret; handed to the container
 * through the environment, never on a command line).
 *
 * The image's tool speaks `version` ("<n> <dirty>") and `goto N`.
 * Up-migrations run from the release image. A schema ahead of the target is
 * kept (expand/contract), unless DB_MODE=down: then the down migrations run
 * from DOWN_IMAGE, the image rolled back from, which has the newer .down.sql
 * files. A dirty database fails with the tool's own message.
 */
export function migrateScript(): string {
    return bashScript(
        'migrate() { local img=$1; shift; docker run --rm --network host -e DATABASE_URL --entrypoint "$MIGRATE_CMD" "$img" "$@"; }',
        'state=$(migrate "$IMAGE_REF" version) || { echo "migrations: could not read the schema version with $IMAGE_REF" >&2; exit 1; }',
        'cur=${state%% *}; dirty=${state##* }',
        'if [ "$dirty" != false ]; then',
        '  echo "migrations: database is dirty at version $cur (a migration failed halfway); repair it, then mark the version with: docker run --rm --network host -e DATABASE_URL --entrypoint $MIGRATE_CMD $IMAGE_REF force <version>" >&2',
        "  exit 1",
        "fi",
        'echo "migrations: database at version $cur, release needs $TARGET"',
        'if [ "$cur" -lt "$TARGET" ]; then',
        '  migrate "$IMAGE_REF" goto "$TARGET"',
        'elif [ "$cur" -gt "$TARGET" ]; then',
        '  if [ "$DB_MODE" = down ]; then',
        '    echo "migrations: running down migrations to $TARGET from $DOWN_IMAGE"',
        '    migrate "$DOWN_IMAGE" goto "$TARGET"',
        "  else",
        '    echo "migrations: schema $cur is ahead of $TARGET and is kept (dbMode=$DB_MODE)"',
        "  fi",
        "fi",
        'state=$(migrate "$IMAGE_REF" version)',
        'printf \'{"from":%s,"to":%s}\\n\' "$cur" "${state%% *}"',
    );
}

export interface MigrationsArgs {
    /** The release image, repo@sha256:..., whose migration tool and files run. */
    readonly imageRef: pulumi.Input<string>;
    /** Path of the migration tool inside the image. */
    readonly migrateCommand: pulumi.Input<string>;
    /** Schema version the release needs. */
    readonly targetVersion: pulumi.Input<number>;
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
}

/** Moves the schema to the release's version with the release image's own migration tool. */
export class Migrations extends pulumi.ComponentResource {
    /** Schema version before the run. */
    public readonly fromVersion: pulumi.Output<number>;
    /** Schema version after the run. */
    public readonly toVersion: pulumi.Output<number>;
    /** The command resource that migrates. */
    public readonly command: command.local.Command;

    constructor(name: string, args: MigrationsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-server:release:Migrations", name, {}, opts);
        const env: Record<string, pulumi.Input<string>> = {
            IMAGE_REF: args.imageRef,
            MIGRATE_CMD: args.migrateCommand,
            TARGET: pulumi.output(args.targetVersion).apply(String),
            DB_MODE: args.dbMode,
            DOWN_IMAGE: args.downImage,
            DATABASE_URL: pulumi.secret(args.databaseUrl),
        };
        this.command = new command.local.Command(`${name}-migrate`, {
            interpreter: BASH,
            create: migrateScript(),
            environment: withDockerHost(env, args.dockerHost),
            triggers: args.triggers,
        }, childOpts(this, opts));
        const result = this.command.stdout.apply(out => lastJsonLine<{ from: number; to: number }>(out));
        this.fromVersion = result.from;
        this.toVersion = result.to;
        this.registerOutputs({ fromVersion: this.fromVersion, toVersion: this.toVersion });
    }
}

/** A postgres:// URL with every part percent-encoded. */
export function databaseUrl(db: { host: string; port: number; database: string; user: string }, password: string): string {
    const e = encodeURIComponent;
    const host = db.host.includes(":") ? `[${db.host}]` : db.host;
    return `postgres://${e(db.user)}:${e(password)}@${host}:${db.port}/${e(db.database)}?sslmode=disable`;
}
