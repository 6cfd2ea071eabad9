// deployctl force-schema: the recovery of a dirty schema, marking version N clean.
import { Command } from "commander";
import { databaseUrl } from "../../components/config";
import { flag, ns, openStack, pj, RefusedError, requireStack, stackOption, UsageError } from "../common";
import { dockerEnvOf, readLiveSchema, run, stackSettings } from "../live";

interface ForceSchemaOptions {
    stack?: string; yes?: boolean;
}

export function registerForceSchema(program: Command): void {
    program.command("force-schema")
        .summary("mark a dirty schema clean after a repair by hand")
        .usage("<N> --stack S --yes")
        .description("Marks a dirty schema clean at version N after you have repaired the database by hand (golang-migrate's force), with the migration tool of the release that serves. N is the version before the dirty one (its failed migration was rolled back) or the dirty one (completed by hand).")
        // Optional here so that a missing version gets this command's own message (checked in cmdForceSchema).
        .argument("[N]", "the schema version to mark clean")
        .addOption(stackOption())
        .addOption(flag("--yes", "confirm: no migration runs, the version is only marked clean"))
        .addHelpText("after", "\nexample: deployctl force-schema 2 --stack prod --yes")
        .action((n: string | undefined, opts: ForceSchemaOptions) => cmdForceSchema(n, opts));
}

/**
 * The recovery of a dirty schema: marks version N clean with the migration
 * tool of the release that serves (golang-migrate's `force`). Asks for --yes.
 */
async function cmdForceSchema(n: string | undefined, v: ForceSchemaOptions): Promise<void> {
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
    // On the first host, where the migrations run.
    const r = await run("docker", ["run", "--rm", "--network", "host", "-e", "DATABASE_URL", "--entrypoint", settings.get("migrateCommand"), image, "force", String(want)],
        { ...dockerEnvOf(settings), DATABASE_URL: url });
    if (r.code !== 0) throw new Error(`force ${want} with ${image} failed: ${r.out.split("\n").pop()}`);
    const after = await readLiveSchema(settings);
    console.log(`deployctl: schema marked clean at ${after.version} (was dirty at ${live.version}); deploy or roll back again`);
}
