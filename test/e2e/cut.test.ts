// deployctl cut end to end: the test app's own repository (a clone with a bare origin), the local
// registry and a real stack. Refusals change nothing (no tag, no image, no config); a cut tags,
// builds, pushes, reads the digest and deploys a release the provenance checks accept.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { imageLabels, REVISION_LABEL, VERSION_LABEL } from "../../cli/provenance";
import { exec, ROOT, tmpDir, uniq } from "../support/infra";
import { TestStack } from "../support/stack";

describe("deployctl cut (the test app's repository, the local registry, a real stack)", function () {
    this.timeout(300000);
    let s: TestStack;
    const dir = tmpDir("cut");
    const origin = path.join(dir, "origin.git"), work = path.join(dir, "work"), other = path.join(dir, "other");
    const image = `127.0.0.1:5000/acme/${uniq("cut").replace(/_/g, "-")}`;
    const git = (repo: string, ...args: string[]) => {
        const r = exec("git", ["-C", repo, "-c", "user.name=e2e", "-c", "user.email=e2e@localhost", "-c", "commit.gpgsign=false", ...args]);
        expect(r.code, `git ${args.join(" ")}: ${r.stderr}`).to.equal(0);
        return r.stdout.trim();
    };
    const tagIn = (repo: string, tag: string) => exec("git", ["-C", repo, "rev-parse", "--verify", "--quiet", `refs/tags/${tag}`]).code === 0;
    const registryTag = (tag: string) => exec("curl", ["-sSI", "-o", "/dev/null", "-w", "%{http_code}", "-H",
        "Accept: application/vnd.docker.distribution.manifest.v2+json", `http://${image.replace("127.0.0.1:5000/", "127.0.0.1:5000/v2/")}/manifests/${tag}`]).stdout;

    /** A cut that must be refused at pre-flight: exit 2, one line, and no tag, image or config. */
    function refused(args: string[], ...needles: string[]): void {
        const before = s.config();
        const r = s.deployctl(["cut", ...args]);
        expect(r.code, r.stdout + r.stderr).to.equal(2);
        const lines = r.stderr.trim().split("\n");
        expect(lines, r.stderr).to.have.length(1);
        for (const n of needles) expect(lines[0]).to.include(n);
        expect(lines[0]).to.match(/; nothing was changed$/);
        expect(tagIn(work, args[0]) || tagIn(origin, args[0]), "no tag").to.equal(false);
        expect(registryTag(args[0]), "no image").to.equal("404");
        expect(s.config()).to.equal(before);
    }

    before(async () => {
        expect(exec("git", ["clone", "-q", "--bare", path.join(ROOT, ".local", "testapp", "repo"), origin]).code).to.equal(0);
        for (const c of [work, other]) expect(exec("git", ["clone", "-q", origin, c]).code).to.equal(0);
        // The app's repository gets what a release is built from: its binaries, migrations 001-002, a Dockerfile.
        const src = path.join(ROOT, "test", "fixtures", "app");
        for (const [out, pkg, flags] of [["app", "./cmd/api", "-X main.version=v1.7.0"], ["migrate", "./cmd/migrate", ""]]) {
            const b = exec("go", ["build", "-trimpath", "-ldflags", `-s -w ${flags}`, "-o", path.join(work, out), pkg], { CGO_ENABLED: "0" }, undefined, src);
            expect(b.code, b.stderr).to.equal(0);
        }
        fs.rmSync(path.join(work, "migrations"), { recursive: true, force: true });
        fs.mkdirSync(path.join(work, "migrations"));
        for (const f of fs.readdirSync(path.join(src, "migrations")).filter(f => /^00[12]_/.test(f))) fs.copyFileSync(path.join(src, "migrations", f), path.join(work, "migrations", f));
        fs.writeFileSync(path.join(work, "Dockerfile"), 'FROM scratch\nCOPY app /app\nCOPY migrate /migrate\nCOPY migrations /migrations\nUSER 65534:65534\nENTRYPOINT ["/app"]\n');
        git(work, "add", "-A");
        git(work, "commit", "-q", "-m", "Build the release image from the repository");
        git(work, "push", "-q", "origin", "main");
        s = await TestStack.create("cut");
        s.pulumiOk(["config", "set", "gitRepo", work]);
        s.pulumiOk(["config", "set", "provenance", "labels,git"]);
    });
    after(() => {
        s?.cleanup();
        const left = exec("docker", ["images", "--format", "{{.Repository}}:{{.Tag}}", image]).stdout.split("\n").filter(Boolean);
        if (left.length > 0) exec("docker", ["rmi", "-f", ...left]);
    });

    it("refuses a tree that is not clean before any tag is created", () => {
        fs.writeFileSync(path.join(work, "stray.txt"), "not committed\n");
        try {
            refused(["v1.7.0", "--image", image], "cut v1.7.0 stopped at step 1 (pre-flight): the tree of", "is not clean (1 changed or untracked file, first: ?? stray.txt); commit or stash first");
        } finally {
            fs.rmSync(path.join(work, "stray.txt"));
        }
    });

    it("refuses a trunk that cannot fast-forward (main and origin/main diverged) before any tag is created", () => {
        git(other, "pull", "-q", "--ff-only");
        fs.writeFileSync(path.join(other, "NOTES"), "merged elsewhere\n");
        git(other, "add", "NOTES");
        git(other, "commit", "-q", "-m", "A change merged on the trunk");
        git(other, "push", "-q", "origin", "main");
        fs.writeFileSync(path.join(work, "LOCAL"), "only here\n");
        git(work, "add", "LOCAL");
        git(work, "commit", "-q", "-m", "A local change");
        const head = git(work, "rev-parse", "HEAD");
        try {
            refused(["v1.7.0", "--image", image], "stopped at step 1 (pre-flight): main cannot fast-forward to origin/main: it has 1 commit(s) that origin/main lacks", "release only from origin/main");
            expect(git(work, "rev-parse", "HEAD"), "the branch did not move").to.equal(head);
        } finally {
            git(work, "reset", "-q", "--hard", "origin/main");
        }
    });

    it("cuts and deploys: annotated tag pushed, both immutable tags at one digest with the OCI labels, release config, provenance checks pass", async () => {
        const r = s.deployctl(["cut", "v1.7.0", "--image", image, "--schema-min", "2", "--schema-max", "3", "--deploy"]);
        expect(r.code, r.stdout + r.stderr).to.equal(0);
        const head = git(work, "rev-parse", "HEAD");
        expect(head).to.equal(git(origin, "rev-parse", "main"));
        expect(exec("git", ["-C", origin, "cat-file", "-t", "refs/tags/v1.7.0"]).stdout.trim(), "annotated, on the remote").to.equal("tag");
        expect(git(origin, "rev-parse", "refs/tags/v1.7.0^{commit}")).to.equal(head);
        const digest = /4\/5 digest (sha256:[0-9a-f]{64})/.exec(r.stdout)?.[1];
        expect(digest, r.stdout).to.be.a("string");
        for (const step of ["1/5 pre-flight", "2/5 annotated tag v1.7.0", "3/5 built from", "4/5 digest", "5/5 release config"]) expect(r.stdout).to.include(step);
        expect(r.stdout).to.include(`provenance: labels and git checks pass for v1.7.0 (${head.slice(0, 12)}`);
        expect(registryTag("v1.7.0")).to.equal("200");
        expect(registryTag(`v1.7.0-${head.slice(0, 7)}`)).to.equal("200");
        const labels = await imageLabels(`${image}@${digest}`, { ...process.env, DOCKER_HOST: `unix://${path.join(tmpDir("no-engine"), "docker.sock")}` });
        expect(labels).to.include({ [REVISION_LABEL]: head, [VERSION_LABEL]: "v1.7.0" });
        const out = s.outputs();
        expect(out).to.include({ version: "v1.7.0", gitSha: head, imageDigest: digest, schemaVersion: 2 });
        expect(r.stdout.trim().split("\n").pop()).to.equal(`deployctl: ${s.name} runs v1.7.0`);
    });

    it("refuses a version whose image tag is already in the registry (tags are immutable)", () => {
        const before = s.config();
        const r = s.deployctl(["cut", "v1.7.0", "--image", image]);
        expect(r.code, r.stdout + r.stderr).to.equal(2);
        expect(r.stderr.trim()).to.equal(`deployctl: cut v1.7.0 stopped at step 1 (pre-flight): ${image}:v1.7.0 is already in the registry; image tags are immutable: cut the next version; nothing was changed`);
        expect(s.config()).to.equal(before);
    });

    it("without --deploy writes the release config and deploys nothing", () => {
        const updates = s.history().length;
        const r = s.deployctl(["cut", "v1.7.1", "--image", image]);
        expect(r.code, r.stdout + r.stderr).to.equal(0);
        expect(r.stdout.trim().split("\n").pop()).to.match(/5\/5 release config of .* set to .*@sha256:[0-9a-f]{64} \(.*, schema 2\); nothing is deployed yet: deployctl deploy --stack /);
        expect(s.pulumiOk(["config", "get", "release:version"]).trim()).to.equal("v1.7.1");
        expect(s.pulumiOk(["config", "get", "release:imageDigest"]).trim()).to.match(/^sha256:[0-9a-f]{64}$/);
        expect(s.history().length, "nothing deployed").to.equal(updates);
        expect(tagIn(origin, "v1.7.1")).to.equal(true);
        // Maintenance runs pulumi up on the whole config: with the release config ahead of what serves it is refused.
        const before = s.config();
        const m = s.deployctl(["maintenance", "on"]);
        expect(m.code, m.stdout + m.stderr).to.equal(2);
        expect(m.stderr.trim()).to.equal(`deployctl: the stack's release config is v1.7.1, but v1.7.0 serves, so maintenance on would deploy v1.7.1; deploy it first (deployctl deploy --stack ${s.name}), or set the release: keys back to those of v1.7.0 (deployctl history --stack ${s.name} --json); nothing was changed`);
        expect(s.config()).to.equal(before);
        expect(s.history().length).to.equal(updates);
    });
});
