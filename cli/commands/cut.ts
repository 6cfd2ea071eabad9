// deployctl cut: the playbook's release checklist as one command (see cli/cut.ts), then the
// release: config, and with --deploy the deploy.
import { Command } from "commander";
import { checkReleaseValue, checkRepository, checkVersion, rangeProblems } from "../../components/config";
import { checkNotLocked, flag, ns, openStack, requireStack, stackOption, UsageError } from "../common";
import { highestMigration } from "../../components/schema";
import { CutStepFailed, cutRelease } from "../cut";
import { imageMigrationFiles, stackSettings } from "../live";
import { webhookOf } from "../notify";
import { cmdDeploy } from "./deploy";

interface CutOptions {
    stack?: string; image?: string; schemaMin?: string; schemaMax?: string; notes?: string; deploy?: boolean;
}

export function registerCut(program: Command): void {
    program.command("cut")
        .summary("cut a release: pre-flight, annotated tag, build and push by immutable tags, digest, release config")
        .argument("<vX.Y.Z>", "the new release's version")
        .usage("<vX.Y.Z> --stack S [--image REPO] [--schema-min N --schema-max N] [--notes TEXT] [--deploy]")
        .description(`The playbook's release checklist, in its order, stopping at the first step that fails with that step's message:
1. pre-flight in the stack's gitRepo: fetch the trunk (trunkRef), on its branch, the tree clean, fast-forward only, HEAD on the trunk, the version new (no tag, not in the registry);
2. the annotated tag on HEAD, pushed;
3. docker build of the tagged commit's files (its Dockerfile at the root) with the OCI labels org.opencontainers.image.version and .revision, pushed as vX.Y.Z and vX.Y.Z-<short sha>;
4. the digest, read from the registry;
5. the stack's release: config (the schema version is the image's highest up-migration). With --deploy it goes on to deployctl deploy.`)
        .addOption(stackOption())
        .addOption(flag("--image <REPO>", "the image repository (default: the stack's release:image)"))
        .addOption(flag("--schema-min <N>", "the lowest schema version the release's code runs on"))
        .addOption(flag("--schema-max <N>", "the highest schema version the release's code runs on"))
        .addOption(flag("--notes <TEXT>", "free text for the release record"))
        .addOption(flag("--deploy", "go on to deploy the release"))
        .addHelpText("after", "\nexample: deployctl cut v2.1.0 --stack prod --schema-min 4 --schema-max 5 --deploy")
        .action((version: string, opts: CutOptions) => cmdCut(version, opts));
}

async function cmdCut(version: string, v: CutOptions): Promise<void> {
    const bad = checkVersion("version", version);
    if (bad) throw new UsageError(bad);
    const stack = await openStack(requireStack(v));
    checkNotLocked(stack.name);
    const cfg = await stack.getAllConfig();
    const settings = await stackSettings(stack, cfg);
    const repo = settings.get("gitRepo");
    if (repo === "") throw new UsageError(`cut needs api-server:gitRepo, the clone releases are cut from: pulumi config set gitRepo /path/to/clone --stack ${stack.name}`);
    const image = v.image ?? cfg[ns("image")]?.value;
    if (image === undefined) throw new UsageError(`--image is required: the stack has no ${ns("image")} yet`);
    const badImage = checkRepository("--image", image);
    if (badImage) throw new UsageError(badImage);
    for (const [key, name, value] of [["schemaMin", "--schema-min", v.schemaMin], ["schemaMax", "--schema-max", v.schemaMax]] as const) {
        const problem = value === undefined ? undefined : checkReleaseValue(key, value);
        if (problem) throw new UsageError(problem.replace(ns(key), name));
    }
    const range = rangeProblems({ schemaMin: v.schemaMin, schemaMax: v.schemaMax })[0];
    if (range) throw new UsageError(range.replace(ns("schemaMin"), "--schema-min").replace(ns("schemaMax"), "--schema-max"));

    // What the deploy would refuse for the stack's own settings is refused before anything is tagged.
    if (v.deploy === true) webhookOf(cfg);

    const log = (line: string) => console.log(line);
    const r = await cutRelease({ version, repo, trunkRef: settings.get("trunkRef"), image, log });
    const ref = `${image}@${r.digest}`;
    let schema: number;
    try {
        schema = highestMigration(await imageMigrationFiles(settings, ref, process.env));
    } catch (err) {
        throw new CutStepFailed(`cut ${version} stopped at step 5 (release config): ${(err as Error).message}; ${r.left()}`);
    }
    const flags = {
        stack: stack.name, version, image, digest: r.digest, sha: r.gitSha, schema: String(schema),
        schemaMin: v.schemaMin, schemaMax: v.schemaMax, notes: v.notes ?? `cut from ${r.gitSha.slice(0, 12)}`,
    };
    if (v.deploy === true) {
        log(`deployctl: cut ${version}: 5/5 release config: written by the deploy (schema ${schema}); deploying`);
        try {
            await cmdDeploy(flags);
        } catch (err) {
            // The deploy's own line, and what the cut left: its tag and images stay, ready for the same deploy.
            const e = err as Error;
            const again = ["deploy", "--stack", stack.name, "--version", version, "--image", image, "--digest", r.digest, "--sha", r.gitSha, "--schema", String(schema),
                ...(v.schemaMin ? ["--schema-min", v.schemaMin] : []), ...(v.schemaMax ? ["--schema-max", v.schemaMax] : [])].join(" ");
            e.message = `${e.message.split("\n")[0]} (cut ${version} itself is done: its tag and images are pushed; once fixed: deployctl ${again})`;
            throw e;
        }
        return;
    }
    const keys: Record<string, string | undefined> = {
        version, gitSha: r.gitSha, image, imageDigest: r.digest, schemaVersion: String(schema),
        schemaMin: v.schemaMin, schemaMax: v.schemaMax, notes: flags.notes,
    };
    await stack.setAllConfig(Object.fromEntries(Object.entries(keys).filter(([, x]) => x !== undefined).map(([k, x]) => [ns(k), { value: x! }])));
    const stale = ["schemaMin", "schemaMax"].filter(k => keys[k] === undefined).map(ns).filter(k => k in cfg);
    if (stale.length > 0) await stack.removeAllConfig(stale);
    log(`deployctl: cut ${version}: 5/5 release config of ${stack.name} set to ${ref} (${r.gitSha.slice(0, 12)}, schema ${schema}); nothing is deployed yet: deployctl deploy --stack ${stack.name}`);
}
