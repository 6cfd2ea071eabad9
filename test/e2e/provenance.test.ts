// The provenance pre-flight on a real stack: the image's OCI labels (from the local engine or the
// registry, never a pull) and the app's own git repository (a clone the test may change).
import { expect } from "chai";
import * as path from "path";
import { imageLabels, REVISION_LABEL, VERSION_LABEL } from "../../cli/provenance";
import { containerId, exec, releases, Result, ROOT, tmpDir } from "../support/infra";
import { TestStack } from "../support/stack";

describe("provenance pre-flight (real engine, the test app's repository and registry)", function () {
    this.timeout(300000);
    const rel = releases();
    const v10 = rel["v1.0.0"], v11 = rel["v1.1.0"];
    let s: TestStack;
    let repo = "";
    const git = (...args: string[]) => {
        const r = exec("git", ["-C", repo, "-c", "user.name=e2e", "-c", "user.email=e2e@localhost", "-c", "tag.gpgsign=false", "-c", "commit.gpgsign=false", ...args]);
        expect(r.code, `git ${args.join(" ")}: ${r.stderr}`).to.equal(0);
        return r.stdout.trim();
    };
    /** A deploy of v1.1.0's image with the given commit SHA. */
    const deploy11 = (sha: string, extra: string[] = []) => s.deployctl(["deploy", "--version", "v1.1.0", "--image", v11.image, "--digest", v11.digest,
        "--sha", sha, "--schema", "2", "--schema-min", "2", "--schema-max", "3", ...extra]);

    /** Runs a command that must be refused, and checks it changed nothing. */
    function refused(command: () => Result, ...needles: string[]): void {
        const before = { config: s.config(), updates: s.history().length, id: containerId(s.container) };
        const r = command();
        expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(2);
        const lines = r.stderr.trim().split("\n");
        expect(lines, r.stderr).to.have.length(1);
        for (const n of needles) expect(lines[0]).to.include(n);
        expect(s.config(), "stack config unchanged").to.equal(before.config);
        expect(s.history().length, "no new update").to.equal(before.updates);
        expect(containerId(s.container), "same container").to.equal(before.id);
    }

    /** Puts the clone's v1.1.0 tag back as it was built: annotated, on v1.1.0's commit. */
    const resetTag = () => git("tag", "-f", "-a", "v1.1.0", "-m", "v1.1.0", v11.gitSha);

    before(async () => {
        s = await TestStack.create("prov");
        repo = path.join(tmpDir("prov-repo"), "app");
        const cloned = exec("git", ["clone", "-q", path.join(ROOT, ".local", "testapp", "repo"), repo]);
        expect(cloned.code, cloned.stderr).to.equal(0);
        s.pulumiOk(["config", "set", "provenance", "labels,git"]);
        s.pulumiOk(["config", "set", "gitRepo", repo]);
    });
    after(() => s?.cleanup());

    it("deploys v1.0.0 when its labels, its annotated tag and the trunk agree", () => {
        const r = s.deploy("v1.0.0");
        expect(r.code, r.stdout + r.stderr).to.equal(0);
        expect(r.stdout).to.include(`deployctl: provenance: labels and git checks pass for v1.0.0 (${v10.gitSha.slice(0, 12)}`);
    });

    it("reads the labels from the registry (manifest, then config blob) when the engine does not have the image", async () => {
        const noEngine = { ...process.env, DOCKER_HOST: `unix://${path.join(tmpDir("no-engine"), "docker.sock")}` };
        const labels = await imageLabels(`${v11.image}@${v11.digest}`, noEngine);
        expect(labels).to.include({ [REVISION_LABEL]: v11.gitSha, [VERSION_LABEL]: "v1.1.0" });
        let failed = "";
        await imageLabels(`${v11.image}@sha256:${"0".repeat(64)}`, noEngine).catch(e => { failed = (e as Error).message; });
        expect(failed).to.include(`cannot read manifests/sha256:${"0".repeat(64)} of ${v11.image}@sha256:`);
    });

    it("refuses an image whose revision label is another commit, naming both values", () => {
        refused(() => deploy11(v10.gitSha),
            `has org.opencontainers.image.revision ${v11.gitSha}, but release:gitSha is ${v10.gitSha}`,
            `tag v1.1.0 points at ${v11.gitSha}, but release:gitSha is ${v10.gitSha}`,
            "--override-provenance");
    });

    it("refuses a lightweight tag", () => {
        git("tag", "-d", "v1.1.0");
        git("tag", "v1.1.0", v11.gitSha);
        try {
            refused(() => deploy11(v11.gitSha), "tag v1.1.0 in", "is a lightweight tag; a release tag must be annotated");
        } finally {
            resetTag();
        }
    });

    it("refuses a tag that points at another commit", () => {
        git("tag", "-f", "-a", "v1.1.0", "-m", "moved", v10.gitSha);
        try {
            refused(() => deploy11(v11.gitSha), `tag v1.1.0 points at ${v10.gitSha}, but release:gitSha is ${v11.gitSha}`);
        } finally {
            resetTag();
        }
    });

    it("refuses a commit that is not on the trunk", () => {
        git("checkout", "-q", "-b", "side", v11.gitSha);
        git("commit", "-q", "--allow-empty", "-m", "not on main");
        const side = git("rev-parse", "HEAD");
        git("tag", "-f", "-a", "v1.1.0", "-m", "from a side branch", side);
        s.pulumiOk(["config", "set", "provenance", "git"]);
        try {
            refused(() => deploy11(side), `commit ${side} is not on origin/main: release only from the trunk`);
        } finally {
            s.pulumiOk(["config", "set", "provenance", "labels,git"]);
            git("checkout", "-q", "main");
            resetTag();
        }
    });

    it("goes ahead with --override-provenance and records the reason in history, outputs and the record", () => {
        const reason = "INC-7: image rebuilt by hand";
        const r = deploy11(v10.gitSha, ["--override-provenance", reason]);
        expect(r.code, r.stdout + r.stderr).to.equal(0);
        expect(r.stdout).to.include(`deployctl: provenance check overridden (${reason}): image`);
        const newest = s.history()[0];
        expect(newest).to.deep.include({ version: "v1.1.0", result: "succeeded", provenanceOverride: reason });
        expect(s.deployctl(["history"]).stdout).to.include("+provenance-override");
        expect((s.outputs().releaseRecord as { provenanceOverride?: string }).provenanceOverride).to.equal(reason);
        const out = tmpDir("prov-record");
        const md = s.deployctl(["record", "v1.1.0", "--out", out]);
        expect(md.code, md.stderr).to.equal(0);
        expect(exec("cat", [md.stdout.trim()]).stdout).to.include(`| provenance | **check overridden**: ${reason} |`);
    });

    it("checks a rollback's target too, and a checked update records no override", () => {
        const r = s.deployctl(["rollback", "v1.0.0"]);
        expect(r.code, r.stdout + r.stderr).to.equal(0);
        expect(r.stdout).to.include("deployctl: provenance: labels and git checks pass for v1.0.0");
        expect(s.history()[0]).to.deep.include({ version: "v1.0.0", kind: "rollback", provenanceOverride: "" });
        expect(s.outputs().releaseRecord).to.not.have.property("provenanceOverride");
    });
});
