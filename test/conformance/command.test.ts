// The command stand-in (tools/pulumi/cmd/pulumi-resource-command) against the upstream contract of
// pulumi/pulumi-command v1.2.1 (on pulumi-go-provider v1.3.0), through the real engine and the real
// @pulumi/command SDK. Each rule names the upstream file it was read from (paths in pulumi-command
// under provider/pkg/provider/ unless said otherwise). The program relies on each of these.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { toolEnv } from "../../cli/workspace";
import { ROOT, tmpDir, uniq } from "../support/infra";

type Props = Record<string, pulumi.Input<unknown>>;

describe("command stand-in conformance (real engine, @pulumi/command SDK)", function () {
    this.timeout(120000);
    const backend = tmpDir("conformance-state");
    const work = tmpDir("conformance-work");
    let stack: Stack;
    let props: Props = {};
    let extra: Props | undefined;

    const program = async () => {
        const c = new command.local.Command("c", props as command.local.CommandArgs);
        if (extra) new command.local.Command("d", extra as command.local.CommandArgs);
        return { stdout: c.stdout, stderr: c.stderr, id: c.id };
    };
    const up = async (p: Props, d?: Props) => {
        props = p;
        extra = d;
        return stack.up({ color: "never" });
    };
    const file = (name: string) => path.join(work, name);
    const read = (name: string) => fs.existsSync(file(name)) ? fs.readFileSync(file(name), "utf8") : "";

    beforeEach(async () => {
        const envVars = { ...toolEnv({ ...process.env, PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "conformance" } as NodeJS.ProcessEnv, ROOT), PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "conformance", CONFORMANCE_INHERITED: "from the CLI" };
        stack = await LocalWorkspace.createOrSelectStack({ projectName: "conformance", stackName: uniq("c").replace(/_/g, "-"), program }, { envVars });
        fs.rmSync(work, { recursive: true, force: true });
        fs.mkdirSync(work, { recursive: true });
    });
    afterEach(async () => {
        await stack.destroy({ color: "never" }).catch(() => undefined);
        await stack.workspace.removeStack(stack.name).catch(() => undefined);
    });
    after(() => fs.rmSync(backend, { recursive: true, force: true }));

    it("changes every input but triggers in place, re-running create when update is unset (common/inputs.go; local/commandController.go Update)", async () => {
        const first = await up({ create: `echo one >> ${file("log")}`, triggers: ["a"] });
        const id = first.outputs.id.value;
        const second = await up({ create: `echo two >> ${file("log")}`, triggers: ["a"] });
        expect(second.summary.resourceChanges).to.deep.include({ update: 1 });
        expect(second.outputs.id.value, "same resource: updated, not replaced").to.equal(id);
        expect(read("log")).to.equal("one\ntwo\n");
        await up({ create: `echo two >> ${file("log")}`, triggers: ["a"], environment: { X: "1" } });
        expect(read("log"), "an environment change re-runs create").to.equal("one\ntwo\ntwo\n");
    });

    it("re-runs create when only delete changes (local/commandController.go Update: no no-op check)", async () => {
        await up({ create: `echo c >> ${file("log")}` });
        const r = await up({ create: `echo c >> ${file("log")}`, delete: "true" });
        expect(r.summary.resourceChanges).to.deep.include({ update: 1 });
        expect(read("log")).to.equal("c\nc\n");
    });

    it("gives a command the environment of the CLI that started the engine, then its own environment (local/commandOutputs.go: cmd.Env = os.Environ())", async () => {
        // deployctl passes the backup step BACKUP_AHEAD this way (cli/backupAhead.ts).
        await up({ create: `printf '%s|%s' "\${CONFORMANCE_INHERITED-unset}" "\${OWN-unset}" > ${file("env")}`, environment: { OWN: "own" } });
        expect(read("env")).to.equal("from the CLI|own");
    });

    it("runs update instead of create when update is set", async () => {
        await up({ create: `echo create >> ${file("log")}`, update: `echo update >> ${file("log")}` });
        await up({ create: `echo create >> ${file("log")}`, update: `echo update >> ${file("log")}`, environment: { X: "2" } });
        expect(read("log")).to.equal("create\nupdate\n");
    });

    it("replaces on a triggers change, creating the new one before deleting the old (SDK replaceOnChanges triggers[*]; go-provider sets no deleteBeforeReplace)", async () => {
        const p = (t: string) => ({ create: `echo create-$T >> ${file("log")}`, delete: `echo delete-$T >> ${file("log")}`, environment: { T: t }, triggers: [t] });
        const first = await up(p("1"));
        const second = await up(p("2"));
        expect(second.summary.resourceChanges).to.deep.include({ replace: 1 });
        expect(second.outputs.id.value).to.not.equal(first.outputs.id.value);
        expect(String(second.outputs.id.value)).to.match(/^c[0-9a-f]{8}$/);
        expect(read("log")).to.equal("create-1\ncreate-2\ndelete-1\n");
    });

    it("sets PULUMI_COMMAND_STDOUT only when the previous stdout is non-empty, never on create (local/commandOutputs.go)", async () => {
        const probe = (name: string, print: string, x: string) => ({
            create: `${print}printf '%s' "\${PULUMI_COMMAND_STDOUT-unset}" > ${file(name)}`, environment: { X: x },
        });
        await up(probe("empty", "", "1"), probe("full", "echo hello; ", "1"));
        expect([read("empty"), read("full")]).to.deep.equal(["unset", "unset"]);
        await up(probe("empty", "", "2"), probe("full", "echo hello; ", "2"));
        expect([read("empty"), read("full")]).to.deep.equal(["unset", "hello"]);
    });

    it("trims exactly one trailing newline from stdout and stderr (local/commandOutputs.go)", async () => {
        const r = await up({ create: "printf 'a\\n\\n'; printf 'e\\n' >&2" });
        expect(r.outputs.stdout.value).to.equal("a\n");
        expect(r.outputs.stderr.value).to.equal("e");
    });

    it("fails with \"<exit status>: running <quoted command>:\" and the output (local/commandOutputs.go)", async () => {
        const err = await up({ create: "echo out; exit 3" }).then(() => undefined, (e: Error) => e);
        expect(String(err?.message)).to.include('exit status 3: running "echo out; exit 3":');
        expect(String(err?.message)).to.include("out");
    });

    it("runs nothing in a preview (local/commandController.go Create and Update on DryRun)", async () => {
        await up({ create: `echo one >> ${file("log")}` });
        props = { create: `echo two >> ${file("log")}` };
        const pre = await stack.preview({ color: "never" });
        expect(pre.changeSummary).to.deep.include({ update: 1 });
        expect(read("log")).to.equal("one\n");
    });

    it("keeps a secret environment secret in state without making stdout secret (go-provider infer/resource.go ensureDefaultSecrets)", async () => {
        await up({ create: "echo visible", environment: { S: pulumi.secret("hidden-value") } });
        const stateFile = (fs.readdirSync(backend, { recursive: true }) as string[])
            .map(f => path.join(backend, f)).find(f => f.endsWith(`${stack.name}.json`) && !f.includes("history"))!;
        const state = fs.readFileSync(stateFile, "utf8");
        expect(state, "the secret is encrypted at rest").to.not.include("hidden-value");
        const c = JSON.parse(state).checkpoint.latest.resources.find((x: { type: string }) => x.type === "command:local:Command");
        expect(c.outputs.stdout, "stdout is not made secret").to.equal("visible");
        expect(c.outputs.environment.S, "the secret environment value is").to.have.property("4dabf18193072939515e22adb298388d");
    });
});
