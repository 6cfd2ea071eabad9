// The provenance pre-flight of deploy and rollback: the release triple
// (git tag ↔ commit ↔ image digest) is checked, not trusted, before anything
// changes. Which checks a stack requires is its `provenance` setting.
import { checkSettingValue } from "../components/config";
import { RefusedError, UsageError } from "./common";
import { dockerEnvOf, run, StackSettings } from "./live";
import { MANIFEST_ACCEPT, registryGet } from "./registry";

/** The checks a stack can require. */
export type ProvenanceCheck = "labels" | "git";

/** What is checked: the release's version and commit, and the image that claims to be built from them. */
export interface ReleaseClaim {
    version: string;
    gitSha: string;
    /** repo@sha256:... */
    imageRef: string;
}

export const REVISION_LABEL = "org.opencontainers.image.revision";
export const VERSION_LABEL = "org.opencontainers.image.version";

/** The checks named by a `provenance` setting ("", "labels", "git", "labels,git"). */
export function requiredChecks(setting: string): ProvenanceCheck[] {
    return setting.split(",").map(s => s.trim()).filter((s): s is ProvenanceCheck => s === "labels" || s === "git");
}

/** The mismatches between an image's OCI labels and the release it is deployed as, one line each. */
export function labelProblems(labels: Record<string, string> | undefined, r: ReleaseClaim): string[] {
    const problems: string[] = [];
    for (const [label, key, want] of [[REVISION_LABEL, "release:gitSha", r.gitSha], [VERSION_LABEL, "release:version", r.version]]) {
        const got = labels?.[label];
        if (got === undefined || got === "") problems.push(`image ${r.imageRef} has no ${label} label, so it cannot be traced to ${key} ${want}`);
        else if (got !== want) problems.push(`image ${r.imageRef} has ${label} ${got}, but ${key} is ${want}`);
    }
    return problems;
}

/** From an image index, the manifest for linux on this machine's architecture (else the first one); undefined for a single manifest. */
export function pickManifest(doc: { manifests?: { digest: string; platform?: { os?: string; architecture?: string } }[] }, arch = process.arch): string | undefined {
    if (!Array.isArray(doc.manifests) || doc.manifests.length === 0) return undefined;
    const want = arch === "x64" ? "amd64" : arch;
    return (doc.manifests.find(m => m.platform?.os === "linux" && m.platform?.architecture === want) ?? doc.manifests[0]).digest;
}

/**
 * An image's labels, without pulling it: from the local engine when the image
 * is there (a digest names one image, wherever it is), else from the registry:
 * its manifest, then its config blob.
 */
export async function imageLabels(imageRef: string, dockerEnv: NodeJS.ProcessEnv): Promise<Record<string, string>> {
    const local = await run("docker", ["image", "inspect", "--format", "{{json .Config.Labels}}", imageRef], dockerEnv);
    if (local.code === 0) return (JSON.parse(local.out) ?? {}) as Record<string, string>;
    const digest = imageRef.slice(imageRef.indexOf("@") + 1);
    let manifest = await registryGet(imageRef, `manifests/${digest}`, MANIFEST_ACCEPT) as { config?: { digest: string }; manifests?: [] };
    const one = pickManifest(manifest);
    if (one) manifest = await registryGet(imageRef, `manifests/${one}`, MANIFEST_ACCEPT) as { config?: { digest: string } };
    if (!manifest.config?.digest) throw new Error(`the manifest of ${imageRef} names no config blob`);
    const config = await registryGet(imageRef, `blobs/${manifest.config.digest}`, "application/json") as { config?: { Labels?: Record<string, string> } };
    return config.config?.Labels ?? {};
}

/**
 * The git checks of playbook §1 and §4: the tag `version` exists in the
 * release's repository, is annotated, points at `gitSha`, and that commit is
 * reachable from the trunk. One line per problem; empty when all hold.
 */
export async function gitProblems(repo: string, trunk: string, r: ReleaseClaim): Promise<string[]> {
    const git = (...args: string[]) => run("git", ["-C", repo, ...args], { ...process.env, GIT_TERMINAL_PROMPT: "0" });
    if ((await git("rev-parse", "--git-dir")).code !== 0) return [`gitRepo ${repo} is not a git repository`];
    const type = await git("cat-file", "-t", `refs/tags/${r.version}`);
    if (type.code !== 0) return [`tag ${r.version} does not exist in ${repo}`];
    const problems: string[] = [];
    if (type.out.trim() !== "tag") problems.push(`tag ${r.version} in ${repo} is a lightweight tag; a release tag must be annotated (git tag -a ${r.version})`);
    const target = (await git("rev-parse", `refs/tags/${r.version}^{commit}`)).out.trim();
    if (target !== r.gitSha) problems.push(`tag ${r.version} points at ${target}, but release:gitSha is ${r.gitSha}`);
    if ((await git("rev-parse", "--verify", "--quiet", `${trunk}^{commit}`)).code !== 0) {
        problems.push(`trunk ${trunk} does not exist in ${repo} (fetch it, or set trunkRef)`);
    } else {
        const onTrunk = await git("merge-base", "--is-ancestor", r.gitSha, trunk);
        if (onTrunk.code !== 0) problems.push(`commit ${r.gitSha} is not on ${trunk}: release only from the trunk`);
    }
    return problems;
}

/** Every provenance problem of a release under a stack's settings; empty when the required checks pass. */
export async function provenanceProblems(checks: ProvenanceCheck[], r: ReleaseClaim, opts: { gitRepo: string; trunkRef: string; dockerEnv: NodeJS.ProcessEnv }): Promise<string[]> {
    const problems: string[] = [];
    if (checks.includes("labels")) {
        try {
            problems.push(...labelProblems(await imageLabels(r.imageRef, opts.dockerEnv), r));
        } catch (err) {
            problems.push((err as Error).message);
        }
    }
    if (checks.includes("git")) {
        if (opts.gitRepo === "") problems.push("provenance requires the git check, but gitRepo is not set");
        else problems.push(...await gitProblems(opts.gitRepo, opts.trunkRef, r));
    }
    return problems;
}

/** The one-line refusal for provenance problems. */
export function provenanceRefusal(what: string, problems: string[]): string {
    return `${what} refused by the provenance check: ${problems.join("; ")}; nothing was changed. In an emergency, --override-provenance "<reason>" goes ahead and records the reason in the history`;
}

/**
 * The pre-flight as deploy and rollback run it, before anything changes:
 * refuses on a problem unless overridden. Returns the reason to record
 * (api-server:provenanceOverride), or "" when no override was given.
 */
export async function provenanceGate(what: string, r: ReleaseClaim, settings: StackSettings, override: string | undefined): Promise<string> {
    const checks = requiredChecks(settings.get("provenance"));
    const problems = checks.length === 0 ? [] : await provenanceProblems(checks, r, {
        gitRepo: settings.get("gitRepo"), trunkRef: settings.get("trunkRef"), dockerEnv: dockerEnvOf(settings),
    });
    if (override === undefined) {
        if (problems.length > 0) throw new RefusedError(provenanceRefusal(what, problems));
        if (checks.length > 0) console.log(`deployctl: provenance: ${checks.join(" and ")} checks pass for ${r.version} (${r.gitSha.slice(0, 12)}, ${r.imageRef})`);
        return "";
    }
    console.log(`deployctl: provenance check overridden (${override})${problems.length > 0 ? `: ${problems.join("; ")}` : ": no check failed"}; recorded in the history`);
    return override;
}

/** --override-provenance's reason, checked: one line, not empty. */
export function overrideOf(reason: string | undefined): string | undefined {
    if (reason === undefined) return undefined;
    if (reason.trim() === "") throw new UsageError("--override-provenance needs a reason: it is recorded in the history");
    const bad = checkSettingValue("provenanceOverride", reason, "--override-provenance");
    if (bad) throw new UsageError(bad);
    return reason;
}
