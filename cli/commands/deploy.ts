// deployctl deploy: sets the stack's release: config to a release and runs pulumi up.
import { ConfigMap } from "../pulumiCli";
import { Command } from "commander";
import { checkImageRef, checkReleaseValue, OPTIONAL_RELEASE_KEYS, RELEASE_IDENTITY_KEYS, RELEASE_KEYS, rangeProblems } from "../../components/config";
import { DNS_LABEL_RE } from "../../components/rules";
import { deployRangeProblem, rangeOf, showRange } from "../../components/schema";
import { aheadBlocker, backupEnv } from "../backupAhead";
import { checkNotLocked, flag, history, ns, openStack, pj, RefusedError, repeatable, requireStack, stackOption, UsageError } from "../common";
import { currentRelease, releaseConfigOf } from "../history";
import { servingVersion, stackSettings } from "../live";
import { overrideOf, provenanceGate } from "../provenance";
import { Notifier, releaseImages, webhookOf } from "../notify";
import { applyAttempt, atomicOf, cleanLiveSchema, ConfigSnapshot } from "../update";
import { stackConfigFile } from "../workspace";

/** The rollback-bookkeeping keys a deploy resets to their defaults. */
const ROLLBACK_KEYS = ["kind", "replacesVersion", "dbMode", "downImage", "restoreDump", "restoreDumpSha256", "atomicRecoveryOf", "provenanceOverride"];

interface DeployOptions {
    stack?: string; version?: string; image?: string; digest?: string; sha?: string; schema?: string;
    schemaMin?: string; schemaMax?: string; notes?: string; service?: string[]; atomic?: boolean; preview?: boolean;
    overrideProvenance?: string;
}

export function registerDeploy(program: Command): void {
    program.command("deploy")
        .summary("put a release in place: verified backup, migrations, switch, smoke test")
        .usage(`--stack S [--version vX.Y.Z --image REPO --digest sha256:... --sha GIT_SHA --schema N
                        --schema-min N --schema-max N --notes TEXT --service NAME=REPO@sha256:...] [--atomic] [--preview]`)
        .description(`Sets the stack's release: config to the given release (flags not given keep the stack's values) and runs pulumi up: verified backup, migrations, switch, smoke test. Refused, with nothing changed, when the database is dirty or outside the release's schema range, or the stack is locked.
--image/--digest pin the service that owns the migrations; --service (once per service) pins each other service of a bundle (release:images).`)
        .addOption(stackOption())
        .addOption(flag("--version <vX.Y.Z>", "the release's version (SemVer with a leading v)"))
        .addOption(flag("--image <REPO>", "the image repository, without tag or digest"))
        .addOption(flag("--digest <sha256:...>", "the image's digest, which is what runs"))
        .addOption(flag("--sha <GIT_SHA>", "the release's full 40-character commit SHA"))
        .addOption(flag("--schema <N>", "the schema version the release migrates to"))
        .addOption(flag("--schema-min <N>", "the lowest schema version the release's code runs on"))
        .addOption(flag("--schema-max <N>", "the highest schema version the release's code runs on"))
        .addOption(flag("--notes <TEXT>", "free text for the release record"))
        .addOption(repeatable("--service <NAME=REPO@sha256:...>", "pins another service of a bundle by digest; once per service"))
        .addOption(flag("--override-provenance <REASON>", "go ahead although the provenance check fails (an emergency); the reason is recorded"))
        .addOption(flag("--atomic", "put the previous release back if the update fails after the switch"))
        .addOption(flag("--preview", "show what would change, change nothing"))
        .addHelpText("after", `
example: deployctl deploy --stack prod --version v1.4.0 --image registry.example.com/acme/api \\
           --digest sha256:<64 hex> --sha <40 hex> --schema 4 --schema-min 4 --schema-max 4`)
        .action((opts: DeployOptions) => cmdDeploy(opts));
}

export async function cmdDeploy(v: DeployOptions): Promise<void> {
    const override = overrideOf(v.overrideProvenance);
    const stack = await openStack(requireStack(v));
    checkNotLocked(stack.name);
    // The history is read while the config is checked (two CLI calls at once).
    const pending = history(stack);
    pending.catch(() => undefined);
    const current = await stack.getAllConfig();
    const notifier = new Notifier(webhookOf(current));
    const flags: Record<string, string | undefined> = {
        version: v.version, image: v.image,
        imageDigest: v.digest, gitSha: v.sha,
        schemaVersion: v.schema, notes: v.notes,
        schemaMin: v.schemaMin, schemaMax: v.schemaMax,
    };
    const flagName: Record<string, string> = { imageDigest: "digest", gitSha: "sha", schemaVersion: "schema", schemaMin: "schema-min", schemaMax: "schema-max" };
    // A new version takes its range from the flags only: a range is part of the release, never inherited.
    const newVersion = flags.version !== undefined && flags.version !== current[ns("version")]?.value;
    const next: ConfigMap = {};
    const values: Record<string, string | undefined> = {};
    for (const key of RELEASE_KEYS) {
        const inherited = newVersion && (key === "schemaMin" || key === "schemaMax" || key === "notes") ? undefined : current[ns(key)]?.value;
        const value = flags[key] ?? inherited;
        if (OPTIONAL_RELEASE_KEYS.includes(key)) {
            if (value !== undefined && value !== "") {
                const problem = key === "notes" ? undefined : checkReleaseValue(key, value);
                if (problem) throw new UsageError(problem.replace(ns(key), flags[key] !== undefined ? `--${flagName[key] ?? key}` : ns(key)));
                next[ns(key)] = { value };
                values[key] = value;
            }
            continue;
        }
        if (value === undefined || value === "") throw new UsageError(`--${flagName[key] ?? key} is required: the stack has no ${ns(key)} yet`);
        const problem = checkReleaseValue(key, value);
        if (problem) throw new UsageError(problem.replace(ns(key), flags[key] !== undefined ? `--${flagName[key] ?? key}` : ns(key)));
        next[ns(key)] = { value };
        values[key] = value;
    }
    const services = serviceFlags(v.service);
    if (services) {
        const images = { ...JSON.parse(current[ns("images")]?.value || "{}") as Record<string, string>, ...services };
        next[ns("images")] = { value: JSON.stringify(images) };
        values.images = next[ns("images")].value;
    }
    const rangeProblem = rangeProblems(values)[0];
    if (rangeProblem) throw new UsageError(rangeProblem);
    const settings = await stackSettings(stack, current);
    const version = next[ns("version")].value;
    const ref = `${next[ns("image")].value}@${next[ns("imageDigest")].value}`;
    const [updates, serving] = await Promise.all([pending, servingVersion(settings)]);
    const last = currentRelease(updates);
    const live = await cleanLiveSchema(stack, settings, serving);
    const problem = deployRangeProblem({ version, schemaVersion: Number(values.schemaVersion), range: rangeOf(values.schemaMin, values.schemaMax) }, live);
    if (problem) throw new RefusedError(problem);

    const overridden = await provenanceGate(`deploy of ${version}`, { version, gitSha: values.gitSha!, imageRef: ref }, settings, override);
    if (overridden) next[pj("provenanceOverride")] = { value: overridden };

    const snapshot = new ConfigSnapshot(stackConfigFile(stack.name));
    // Only keys the stack's settings file sets are removed (a CLI call saved when there are none).
    const stale = snapshot.maySet([...ROLLBACK_KEYS.map(pj).filter(k => next[k] === undefined), ...OPTIONAL_RELEASE_KEYS.filter(k => next[ns(k)] === undefined).map(ns)].filter(k => k in current));
    if (stale.length > 0) await stack.removeAllConfig(stale);
    console.log(`deployctl: deploying ${version} (${ref}) to ${stack.name}; database at schema ${live.version}, ${version} runs on ${showRange(rangeOf(values.schemaMin, values.schemaMax))}`);
    const before = last && serving === last.version ? { version: last.version, release: releaseConfigOf(updates, last.update) } : undefined;
    // The verified backup starts with the update, not 1.5 s later when the engine reaches its step (cli/backupAhead.ts).
    const identityChanges = RELEASE_IDENTITY_KEYS.some(k => (values[k] ?? "") !== (current[ns(k)]?.value ?? ""));
    const backupAhead = aheadBlocker(settings, identityChanges) === undefined ? backupEnv(settings, version) : undefined;
    await applyAttempt({
        stack, settings, snapshot, what: "deploy", version, imageRef: ref, before, atomic: atomicOf(v, settings), config: next, backupAhead,
        notices: { notifier, images: releaseImages(settings.get("services"), settings.get("appName"), ref, values.images) },
    }, v.preview === true, `deploy ${version}`);
    if (v.preview !== true) console.log(`deployctl: ${stack.name} runs ${version}`);
}

/** --service NAME=REPO@sha256:... flags, as release:images entries; undefined when none is given. */
function serviceFlags(raw: string[] | undefined): Record<string, string> | undefined {
    if (raw === undefined) return undefined;
    const out: Record<string, string> = {};
    for (const item of raw) {
        const eq = item.indexOf("=");
        const name = eq < 0 ? "" : item.slice(0, eq);
        const ref = item.slice(eq + 1);
        if (!DNS_LABEL_RE.test(name)) {
            throw new UsageError(`--service ${JSON.stringify(item)} is invalid: must be NAME=REPOSITORY@sha256:<64 hex>, NAME a service of the bundle`);
        }
        if (name in out) throw new UsageError(`--service ${name} is given twice: give each service once`);
        if (checkImageRef("--service", ref)) throw new UsageError(`--service ${JSON.stringify(item)} is invalid: must be NAME=REPOSITORY@sha256:<64 hex> (pinned by digest, never a tag)`);
        out[name] = ref;
    }
    return out;
}
