// deployctl runs the Pulumi CLI directly (cli/pulumiCli.ts) instead of through the Automation API;
// each call must give what the Automation API's method of the same name gives, on a real stack.
import { LocalWorkspace, PulumiCommand, Stack as AutoStack } from "@pulumi/pulumi/automation";
import { expect } from "chai";
import { causeOf } from "../../cli/failure";
import { ConfigSnapshot, configArgs } from "../../cli/update";
import { CliError, PulumiCli, Stack } from "../../cli/pulumiCli";
import { ROOT } from "../support/infra";
import { TestStack } from "../support/stack";

describe("deployctl's Pulumi CLI calls against the Automation API's (real engine)", function () {
    this.timeout(240000);
    let s: TestStack;
    let ours: Stack;
    let theirs: AutoStack;
    const saved: Record<string, string | undefined> = {};

    before(async () => {
        s = await TestStack.create("clicalls");
        const r = s.deploy("v1.0.0");
        if (r.code !== 0) throw new Error(`deploy v1.0.0 failed: ${r.stdout}${r.stderr}`);
        // Both run with the stack's environment (backend, passphrase, the project's CLI on PATH).
        for (const [k, v] of Object.entries(s.env)) { saved[k] = process.env[k]; process.env[k] = v; }
        ours = new Stack(s.name, new PulumiCli("pulumi", ROOT));
        const ws = await LocalWorkspace.create({ workDir: ROOT, pulumiCommand: await PulumiCommand.get() });
        ws.selectStack = async () => undefined; // never change the selected stack
        theirs = await AutoStack.select(s.name, ws);
    });

    after(() => {
        for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
        s?.cleanup();
    });

    it("reads the same config, single values, outputs and history", async () => {
        const cfg = await ours.getAllConfig();
        expect(cfg).to.deep.equal(await theirs.getAllConfig());
        expect(cfg["api-server:dbPassword"].secret).to.equal(true);
        expect(cfg["release:version"]).to.deep.equal({ value: "v1.0.0", secret: false });
        expect(await ours.getConfig("api-server:dbName")).to.deep.equal(await theirs.getConfig("api-server:dbName"));
        const outputs = await ours.outputs();
        expect(outputs).to.deep.equal(await theirs.outputs());
        expect((outputs.releaseRecord.value as { version: string }).version).to.equal("v1.0.0");
        const history = await ours.history();
        expect(history).to.deep.equal(await theirs.history());
        expect((history[0] as { startTime: unknown }).startTime).to.be.instanceOf(Date);
        const masked = await ours.history(false);
        expect(masked).to.deep.equal(await theirs.history(undefined, undefined, false));
        const passwords = masked.map(u => (u as { config: Record<string, { value: string }> }).config["api-server:dbPassword"].value);
        expect(passwords).to.not.be.empty.and.satisfy((ps: string[]) => ps.every(p => p === "[secret]"));
    });

    it("writes and removes config as set-all and rm-all do, secrets encrypted", async () => {
        const snapshot = new ConfigSnapshot(s.configFile);
        try {
            await ours.setAllConfig({ "api-server:notesA": { value: "plain, with = and spaces" }, "api-server:notesB": { value: "hush", secret: true } });
            const cfg = await theirs.getAllConfig();
            expect(cfg["api-server:notesA"]).to.deep.equal({ value: "plain, with = and spaces", secret: false });
            expect(cfg["api-server:notesB"]).to.deep.equal({ value: "hush", secret: true });
            const file = require("fs").readFileSync(s.configFile, "utf8") as string; // eslint-disable-line @typescript-eslint/no-require-imports
            expect(file).to.include("secure:").and.not.include("hush");
            await ours.removeAllConfig(["api-server:notesA", "api-server:notesB"]);
            const after = await theirs.getAllConfig();
            expect(after).to.not.have.property("api-server:notesA");
            expect(after).to.not.have.property("api-server:notesB");
        } finally {
            snapshot.restore();
        }
    });

    it("lists Pulumi.yaml's defaults as config, and rm-all of a key only a default sets leaves the settings file as it was", async () => {
        const fs = require("fs") as typeof import("fs"); // eslint-disable-line @typescript-eslint/no-require-imports
        const before = fs.readFileSync(s.configFile, "utf8");
        const cfg = await ours.getAllConfig();
        // downImage has a default ("") in Pulumi.yaml and is in no stack file until a --db down rollback.
        expect(cfg["api-server:downImage"]).to.deep.equal({ value: "", secret: false });
        expect(new ConfigSnapshot(s.configFile).maySet(["api-server:downImage", "release:version"])).to.deep.equal(["release:version"]);
        await theirs.removeAllConfig(["api-server:downImage"]);
        expect(fs.readFileSync(s.configFile, "utf8")).to.equal(before);
        expect((await ours.getAllConfig())["api-server:downImage"]).to.deep.equal({ value: "", secret: false });
    });

    it("passes plain keys to the update as --config and sets secret ones first", async () => {
        const snapshot = new ConfigSnapshot(s.configFile);
        try {
            const args = await configArgs(ours, { "release:notes": { value: "a=b, c" }, "api-server:notesB": { value: "hush", secret: true } });
            expect(args).to.deep.equal(["--config", "release:notes=a=b, c"]);
            expect((await theirs.getAllConfig())["api-server:notesB"]).to.deep.equal({ value: "hush", secret: true });
            // A preview with those arguments writes the plain key to the settings file, as the CLI documents.
            await ours.preview({ args });
            expect((await theirs.getAllConfig())["release:notes"]).to.deep.equal({ value: "a=b, c", secret: false });
        } finally {
            snapshot.restore();
        }
    });

    it("fails with an error whose cause reads as the Automation API's", async () => {
        let mine: unknown, auto: unknown;
        await ours.getConfig("api-server:noSuchKey").catch(e => { mine = e; });
        await theirs.getConfig("api-server:noSuchKey").catch(e => { auto = e; });
        expect(mine).to.be.instanceOf(CliError);
        expect((mine as Error).message).to.match(/^code: 1\n stdout: /);
        // The Automation API's text is execa's ("Command failed with exit code 1: ..."); the cause deployctl shows is the same.
        expect(causeOf((mine as Error).message)).to.equal(causeOf((auto as Error).message)).and.include("configuration key 'noSuchKey' not found");
    });
});
