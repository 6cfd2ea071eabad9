// Every pre-flight refusal of deployctl: one line, exit code 2, and nothing changed
// (stack config, stack history and the running container).
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { ReleaseRecord } from "../../components/record";
import { containerId, exec, execAsync, health, Result, ROOT, releases, stallServer, tmpDir, uniq } from "../support/infra";
import { TestStack } from "../support/stack";

describe("deployctl refusals (real engine)", function () {
    this.timeout(300000);
    const rel = releases();
    let s: TestStack;
    let goneRef = "";

    /** Runs a refused command and checks that it changed nothing. */
    /** What a refusal must leave as it was. */
    function baseline() {
        return { config: s.config(), updates: s.history().length, id: containerId(s.container) };
    }

    function refused(run: () => Result, message: string | RegExp, base = baseline()): void {
        const { config, updates, id } = base;
        const r = run();
        expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(2);
        const lines = r.stderr.trim().split("\n");
        expect(lines, r.stderr).to.have.length(1);
        if (typeof message === "string") expect(lines[0]).to.include(message);
        else expect(lines[0]).to.match(message);
        expect(s.config(), "stack config unchanged").to.equal(config);
        expect(s.history().length, "no new update").to.equal(updates);
        expect(containerId(s.container), "same container").to.equal(id);
    }

    before(async () => {
        s = await TestStack.create("refuse");
        // A release whose image will disappear from the registry: v1.0.0's content under a new digest.
        const ctx = tmpDir("gone-image");
        const tag = `127.0.0.1:5000/acme/api-gone:${uniq("t").replace(/_/g, "-")}`;
        fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${rel["v1.0.0"].image}@${rel["v1.0.0"].digest}\nLABEL e2e.gone="${tag}"\n`);
        const built = exec("docker", ["build", "-q", "-t", tag, ctx], { DOCKER_BUILDKIT: "0" });
        expect(built.code, built.stderr).to.equal(0);
        expect(exec("docker", ["push", "-q", tag]).code).to.equal(0);
        const digest = exec("docker", ["image", "inspect", "-f", "{{range .RepoDigests}}{{println .}}{{end}}", tag]).stdout
            .split("\n").find(l => l.startsWith("127.0.0.1:5000/acme/api-gone@"))!.split("@")[1];
        goneRef = `127.0.0.1:5000/acme/api-gone@${digest}`;
        // v1.0.0 regular, then v1.0.0 from the image that will disappear (its newest successful update), then v1.1.0.
        expect(s.deploy("v1.0.0").code).to.equal(0);
        const d = s.deployctl(["deploy", "--version", "v1.0.0", "--image", "127.0.0.1:5000/acme/api-gone", "--digest", digest,
            "--sha", rel["v1.0.0"].gitSha, "--schema", "1"]);
        expect(d.code, d.stderr).to.equal(0);
        expect(s.deploy("v1.1.0").code).to.equal(0);
        // Delete the first image from the registry and from the engine.
        const del = exec("curl", ["-fsS", "-X", "DELETE", `http://127.0.0.1:5000/v2/acme/api-gone/manifests/${digest}`]);
        expect(del.code, del.stderr).to.equal(0);
        exec("docker", ["rmi", "-f", tag, goneRef]);
    });
    after(() => s?.cleanup());

    it("refuses an unknown target and lists the versions it can roll back to", () => {
        refused(() => s.deployctl(["rollback", "v9.9.9"]), "v9.9.9 is not a successful release in this stack's history; rollback targets: v1.0.0");
    });

    it("refuses the release that is already running", () => {
        refused(() => s.deployctl(["rollback", "v1.1.0"]), "v1.1.0 is the release running now");
    });

    it("refuses a malformed target", () => {
        refused(() => s.deployctl(["rollback", "v1.2"]), 'rollback target "v1.2" is invalid');
        refused(() => s.deployctl(["rollback", "v1.0.0", "--db", "drop"]), '--db "drop" is invalid');
    });

    it("refuses malformed deploy flags, naming the flag and the rule", () => {
        const r = rel["v1.1.0"];
        const base = ["deploy", "--version", r.version, "--image", r.image, "--digest", r.digest, "--sha", r.gitSha, "--schema", "2"];
        const withFlag = (flag: string, value: string) => {
            const args = [...base];
            args[args.indexOf(flag) + 1] = value;
            return args;
        };
        refused(() => s.deployctl(withFlag("--digest", r.digest.toUpperCase().replace("SHA256", "sha256"))), "--digest");
        refused(() => s.deployctl(withFlag("--digest", "sha256:abc")), "must be sha256: followed by 64 lower-case hex characters");
        refused(() => s.deployctl(withFlag("--version", "latest")), '--version "latest" is invalid');
        refused(() => s.deployctl(withFlag("--version", "1.2.3")), "with a leading v");
        refused(() => s.deployctl(withFlag("--version", "v1.2")), '--version "v1.2" is invalid');
        refused(() => s.deployctl(withFlag("--sha", r.gitSha.slice(1))), "full 40-character");
        refused(() => s.deployctl(withFlag("--image", `${r.image}:latest`)), "without a tag");
        refused(() => s.deployctl([...base.slice(0, -2), "--schema=-1"]), "non-negative integer");
        refused(() => s.deployctl([...base.slice(0, -1), "-1"]), "Option '--schema' argument is ambiguous");
        refused(() => s.deployctl(withFlag("--version", "v1.1.0;touch /tmp/pwned")), "is invalid");
        expect(fs.existsSync("/tmp/pwned")).to.equal(false);
    });

    it("refuses a target whose image digest can no longer be pulled", () => {
        expect(exec("docker", ["pull", "-q", goneRef]).code, "the image is really gone").to.not.equal(0);
        refused(() => s.deployctl(["rollback", "v1.0.0"]), /^deployctl: v1\.0\.0's image 127\.0\.0\.1:5000\/acme\/api-gone@sha256:[0-9a-f]{64} cannot be pulled \(.*\); nothing was changed$/);
    });

    it("refuses restore mode when the recorded dump is missing or its checksum differs", () => {
        // Make v1.0.0's newest update a pullable one again, then v1.1.0 with its pre-release dump.
        expect(s.deploy("v1.0.0").code).to.equal(0);
        expect(s.deploy("v1.1.0").code).to.equal(0);
        const dump = (s.outputs().releaseRecord as ReleaseRecord).backup.path;
        const aside = `${dump}.aside`;
        fs.renameSync(dump, aside);
        try {
            refused(() => s.deployctl(["rollback", "v1.0.0", "--db", "restore", "--yes"]), `restore dump ${dump} does not exist; nothing was changed`);
        } finally {
            fs.renameSync(aside, dump);
        }
        const original = fs.readFileSync(dump);
        fs.appendFileSync(dump, "tampered");
        try {
            refused(() => s.deployctl(["rollback", "v1.0.0", "--db", "restore", "--yes"]), /has sha256 [0-9a-f]{64}, but the release record says [0-9a-f]{64}; nothing was changed$/);
        } finally {
            fs.writeFileSync(dump, original);
        }
    });

    it("refuses while another update holds the stack's lock, and the stack works afterwards", async () => {
        // The other update's backup waits on a port that accepts connections and never answers.
        const stall = await stallServer();
        s.pulumiOk(["config", "set", "dbPort", String(stall.port)]);
        // A plain pulumi up of another release holds the lock (deployctl's own pre-flight would refuse an unreachable database).
        const config = s.config();
        s.setRelease("v1.0.0");
        const base = baseline(); // before the lock: reading history waits for the stalled database
        const other = execAsync("pulumi", ["up", "--yes", "--skip-preview", "--stack", s.name, "--non-interactive"], s.env, ROOT);
        try {
            await s.waitForLock();
            refused(() => s.deployctl(["rollback", "v1.0.0"]), /^deployctl: stack e2e-\S+ is locked by another update in progress/, base);
        } finally {
            const r = await other;
            stall.close();
            expect(r.code, "the stalled update fails at its backup").to.not.equal(0);
            expect(r.stderr + r.stdout).to.include("is not reachable; nothing was changed");
            fs.writeFileSync(s.configFile, config);
        }
        expect((await health(s.port))?.body.version, "the previous release kept serving").to.equal("v1.1.0");
        s.pulumiOk(["config", "set", "dbPort", "5432"]);
        const again = s.deploy("v1.0.0");
        expect(again.code, again.stderr).to.equal(0);
        expect((await health(s.port))?.body.version).to.equal("v1.0.0");
    });

    it("prints help for every command with an example, and exits 0", () => {
        for (const cmd of ["deploy", "rollback", "force-schema", "history", "record", "restore", "decide"]) {
            const r = s.deployctl([cmd, "--help"]);
            expect(r.code, `${cmd}: ${r.stderr}`).to.equal(0);
            expect(r.stdout).to.match(new RegExp(`^usage: deployctl ${cmd} `));
            expect(r.stdout).to.include("example: deployctl ");
        }
    });

    it("refuses an unknown stack, naming it and the stacks there are", () => {
        const r = exec("node", [path.join(ROOT, "dist", "cli", "deployctl.js"), "history", "--stack", "nosuchstack"], s.env, "", ROOT);
        expect(r.code).to.equal(2);
        expect(r.stderr.trim()).to.match(new RegExp(`^deployctl: stack "nosuchstack" does not exist in file://\\S+; stacks there: ${s.name}; nothing was changed$`));
    });

    it("refuses a flag given twice instead of taking the last value", () => {
        refused(() => s.deployctl(["rollback", "v1.0.0", "--db", "keep", "--db", "restore"]), '--db is given twice ("keep" and "restore"): give it once');
    });

    it("leaves the user's selected stack as it was", () => {
        const pulumi = (args: string[]) => exec("pulumi", [...args, "--non-interactive"], s.env, undefined, ROOT);
        expect(pulumi(["stack", "unselect"]).code).to.equal(0);
        expect(s.deployctl(["history"]).code).to.equal(0);
        expect(pulumi(["stack", "--show-name"]).code, "still no stack selected").to.not.equal(0);
        expect(pulumi(["stack", "select", s.name]).code).to.equal(0);
        expect(s.deployctl(["history"]).code).to.equal(0);
        expect(pulumi(["stack", "--show-name"]).stdout.trim()).to.equal(s.name);
    });

    it("keeps refusing nothing it should not: the ROOT has no stray stack files", () => {
        expect(fs.readdirSync(ROOT).filter(f => /^Pulumi\.e2e-.*\.yaml$/.test(f) && f !== path.basename(s.configFile))).to.deep.equal([]);
    });
});
