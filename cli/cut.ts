// deployctl cut: the playbook's release checklist (000 §2, steps 1, 4 and 5) as one command, in
// its order, stopping at the first step that fails with that step's own message:
//   1. pre-flight: fetch the trunk's remote; on the trunk's branch; the tree clean; fast-forward
//      only to the trunk, and HEAD on it (release only from origin/main); the version new;
//   2. the annotated tag vX.Y.Z on HEAD, pushed to the remote;
//   3. build from the tagged commit (git archive, so only committed files) with the OCI labels,
//      and push the immutable tags vX.Y.Z and vX.Y.Z-<short sha>;
//   4. the digest, read from the registry, which must be the one the push recorded;
//   5. the release: config, written to the stack (or, with --deploy, by the deploy itself).
// A step that fails before the tag exists changes nothing; one that fails after says what is left.
import { spawn } from "child_process";
import { RefusedError } from "./common";
import { run, RunResult } from "./live";
import { manifestStatus, tagDigest } from "./registry";
import { REVISION_LABEL, VERSION_LABEL } from "./provenance";

/** The release a cut produced: what deploy needs. */
export interface CutRelease {
    version: string;
    gitSha: string;
    image: string;
    digest: string;
    /** What a failure after the cut leaves behind: the tag and the image tags. */
    left: () => string;
}

/** The remote and branch of a trunk ref: origin/main → origin, main. */
export function trunkParts(trunkRef: string): { remote: string; branch: string } {
    const slash = trunkRef.indexOf("/");
    return slash > 0 ? { remote: trunkRef.slice(0, slash), branch: trunkRef.slice(slash + 1) } : { remote: "origin", branch: trunkRef };
}

/** A step of the cut that failed: its number, name and message. */
export class CutStepFailed extends Error {}

/** Runs the checklist's steps 1 to 4 and returns the release (its schema still to be read from the image); step 5 is the caller's. */
export async function cutRelease(o: { version: string; repo: string; trunkRef: string; image: string; log: (line: string) => void }): Promise<CutRelease> {
    const { version, repo, image, log } = o;
    const { remote, branch } = trunkParts(o.trunkRef);
    const git = (...args: string[]) => run("git", ["-C", repo, ...args], { ...process.env, GIT_TERMINAL_PROMPT: "0" });
    const last = (r: RunResult) => r.out.split("\n").filter(l => l.trim() !== "").pop() ?? "no output";
    let tagPushed = false, imagePushed = false;
    const left = () => imagePushed
        ? `the annotated tag ${version} is on ${remote} and image tags are in the registry; nothing was deployed (image tags are never overwritten: once fixed, cut the next version)`
        : tagPushed
            ? `the annotated tag ${version} is on ${remote}; nothing was deployed (fix it, then run the same cut again: a tag on HEAD is kept)`
            : "nothing was changed";
    const step = async <T>(n: number, name: string, body: () => Promise<T>): Promise<T> => {
        try {
            return await body();
        } catch (err) {
            const msg = `cut ${version} stopped at step ${n} (${name}): ${(err as Error).message}; ${left()}`;
            throw n <= 2 && !tagPushed ? new RefusedError(msg) : new CutStepFailed(msg);
        }
    };

    const sha = await step(1, "pre-flight", async () => {
        if ((await git("rev-parse", "--git-dir")).code !== 0) throw new Error(`gitRepo ${repo} is not a git repository`);
        const fetched = await git("fetch", "--quiet", "--tags", remote, branch);
        if (fetched.code !== 0) throw new Error(`git fetch ${remote} ${branch} failed: ${last(fetched)}`);
        const head = (await git("symbolic-ref", "--quiet", "--short", "HEAD")).out.trim();
        if (head !== branch) throw new Error(`${repo} is on ${head === "" ? "a detached HEAD" : `branch ${head}`}; releases are cut from ${branch} only (git checkout ${branch})`);
        const dirty = (await git("status", "--porcelain", "--untracked-files=normal")).out.split("\n").filter(l => l.trim() !== "");
        if (dirty.length > 0) throw new Error(`the tree of ${repo} is not clean (${dirty.length} changed or untracked file${dirty.length > 1 ? "s" : ""}, first: ${dirty[0].trim()}); commit or stash first`);
        // Checked without moving the branch: it is fast-forwarded only once every check passed.
        const ahead = Number((await git("rev-list", "--count", `${o.trunkRef}..HEAD`)).out.trim());
        const behind = Number((await git("rev-list", "--count", `HEAD..${o.trunkRef}`)).out.trim());
        if (ahead > 0 && behind > 0) {
            throw new Error(`${branch} cannot fast-forward to ${o.trunkRef}: it has ${ahead} commit(s) that ${o.trunkRef} lacks (git pull --ff-only refuses); release only from ${o.trunkRef}`);
        }
        if (ahead > 0) throw new Error(`${branch} has ${ahead} commit(s) not on ${o.trunkRef}; release only from ${o.trunkRef} (push them through review first)`);
        const head40 = (await git("rev-parse", `${o.trunkRef}^{commit}`)).out.trim();
        const tag = await git("cat-file", "-t", `refs/tags/${version}`);
        if (tag.code === 0) {
            const target = (await git("rev-parse", `refs/tags/${version}^{commit}`)).out.trim();
            if (tag.out.trim() !== "tag" || target !== head40) {
                throw new Error(`tag ${version} already exists (${tag.out.trim() === "tag" ? "annotated" : "lightweight"}, on ${target.slice(0, 12)}); a release tag is never moved: cut the next version`);
            }
        }
        const known = await manifestStatus(image, version, 10);
        if (known === "200") throw new Error(`${image}:${version} is already in the registry; image tags are immutable: cut the next version`);
        if (known !== "404") throw new Error(`cannot tell whether ${image}:${version} is already in the registry (${known}); image tags are never overwritten, so cut stops here`);
        if (behind > 0) {
            const ff = await git("merge", "--ff-only", "--quiet", o.trunkRef);
            if (ff.code !== 0) throw new Error(`git merge --ff-only ${o.trunkRef} failed: ${last(ff)}`);
        }
        log(`deployctl: cut ${version}: 1/5 pre-flight: ${branch} is at ${o.trunkRef} (${head40.slice(0, 12)}), the tree is clean, ${version} is new`);
        return head40;
    });
    const short = sha.slice(0, 7);

    await step(2, "annotated tag", async () => {
        if ((await git("cat-file", "-t", `refs/tags/${version}`)).code !== 0) {
            const tagged = await git("-c", "tag.gpgsign=false", "tag", "-a", version, "-m", `Release ${version}`, sha);
            if (tagged.code !== 0) throw new Error(`git tag -a ${version} failed: ${last(tagged)}`);
        }
        const pushed = await git("push", "--quiet", remote, `refs/tags/${version}`);
        if (pushed.code !== 0) {
            await git("tag", "-d", version);
            throw new Error(`git push ${remote} ${version} failed: ${last(pushed)} (the local tag was removed again)`);
        }
        tagPushed = true;
        log(`deployctl: cut ${version}: 2/5 annotated tag ${version} on ${short}, pushed to ${remote}`);
    });

    const tags = [`${image}:${version}`, `${image}:${version}-${short}`];
    await step(3, "build and push", async () => {
        const built = await buildFromGit(repo, sha, [
            ...tags.flatMap(t => ["-t", t]),
            "--label", `${VERSION_LABEL}=${version}`, "--label", `${REVISION_LABEL}=${sha}`,
        ]);
        if (built.code !== 0) throw new Error(`docker build failed: ${last(built)}`);
        for (const t of tags) {
            const pushed = await run("docker", ["push", "--quiet", t], process.env);
            imagePushed ||= pushed.code === 0;
            if (pushed.code !== 0) throw new Error(`docker push ${t} failed: ${last(pushed)}`);
        }
        log(`deployctl: cut ${version}: 3/5 built from ${short} with its OCI labels, pushed ${tags.join(" and ")}`);
    });

    const digest = await step(4, "digest", async () => {
        const fromRegistry = await tagDigest(image, version);
        const local = await run("docker", ["image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", tags[0]], process.env);
        const recorded = local.out.split("\n").find(l => l.startsWith(`${image}@`))?.slice(image.length + 1);
        if (recorded !== undefined && recorded !== fromRegistry) {
            throw new Error(`the registry has ${image}:${version} at ${fromRegistry}, but the push recorded ${recorded}; someone pushed the tag meanwhile`);
        }
        const other = await tagDigest(image, `${version}-${short}`);
        if (other !== fromRegistry) throw new Error(`${image}:${version}-${short} is at ${other}, not ${fromRegistry}`);
        log(`deployctl: cut ${version}: 4/5 digest ${fromRegistry} (both tags)`);
        return fromRegistry;
    });
    return { version, gitSha: sha, image, digest, left };
}

/** docker build of a commit's files (git archive: committed files only); its output when it fails. */
function buildFromGit(repo: string, sha: string, args: string[]): Promise<RunResult> {
    return new Promise(resolve => {
        let out = "";
        const archive = spawn("git", ["-C", repo, "archive", "--format=tar", sha], { stdio: ["ignore", "pipe", "pipe"] });
        const build = spawn("docker", ["build", "--quiet", ...args, "-"], { stdio: ["pipe", "pipe", "pipe"] });
        const archived = new Promise<number>(done => {
            archive.on("error", err => { out += err.message; done(1); });
            archive.on("close", code => done(code ?? 1));
        });
        // A build that stops early closes its stdin: the archive's write then fails (EPIPE), which is its error, not a crash.
        build.stdin.on("error", () => undefined);
        archive.stdout.pipe(build.stdin);
        archive.stderr.on("data", t => { out += String(t); });
        build.stdout.on("data", t => { out += String(t); });
        build.stderr.on("data", t => { out += String(t); });
        build.on("error", err => resolve({ code: 1, out: `${out}${err.message}` }));
        build.on("close", async code => {
            const a = await archived;
            resolve({ code: code === 0 && a === 0 ? 0 : 1, out: a !== 0 && code === 0 ? `git archive ${sha} failed: ${out.trim()}` : out.trim() });
        });
    });
}
