// The nodejs language host stand-in (tools/pulumi/cmd/pulumi-language-nodejs) against upstream
// pulumi/pulumi sdk/nodejs/cmd/pulumi-language-nodejs/main.go (constructEnv): the program gets its
// config in PULUMI_CONFIG and the keys whose values are secret in PULUMI_CONFIG_SECRET_KEYS, a JSON
// list of namespace:key names. The program relies on this to keep secrets out of the release bundle
// and to refuse a webhook URL stored in plain text.
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { toolEnv } from "../../cli/workspace";
import { ROOT, tmpDir, uniq } from "../support/infra";

describe("language host stand-in conformance (real engine, an on-disk nodejs program)", function () {
    this.timeout(120000);

    it("hands the program its config and the list of secret keys (constructEnv: PULUMI_CONFIG, PULUMI_CONFIG_SECRET_KEYS)", async () => {
        // Under the project root, so the program resolves @pulumi/pulumi from the project's node_modules.
        const dir = path.join(ROOT, ".local", uniq("lang-conformance"));
        const backend = tmpDir("lang-state");
        fs.mkdirSync(dir, { recursive: true });
        try {
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: langconf\nruntime: nodejs\nmain: index.js\n");
            fs.writeFileSync(path.join(dir, "index.js"), [
                'const pulumi = require("@pulumi/pulumi");',
                'exports.secretKeys = JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS || "null");',
                "exports.config = pulumi.runtime.allConfig();",
                "",
            ].join("\n"));
            const env = { ...toolEnv(process.env, ROOT), PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "conformance" };
            const pulumiCommand = await PulumiCommand.get({ root: path.join(ROOT, ".tools"), skipVersionCheck: false });
            const stack = await LocalWorkspace.createOrSelectStack({ stackName: "lang", workDir: dir }, { envVars: env, pulumiCommand });
            await stack.setAllConfig({ "langconf:token": { value: "t0k3n", secret: true }, "langconf:plain": { value: "visible" }, "other:shared": { value: "x" } });
            const r = await stack.up({ color: "never" });
            expect([...(r.outputs.secretKeys.value as string[])].sort()).to.deep.equal(["langconf:token"]);
            expect(r.outputs.config.value).to.deep.include({ "langconf:plain": "visible", "other:shared": "x" });
            expect((r.outputs.config.value as Record<string, string>)["langconf:token"], "decrypted for the program").to.equal("t0k3n");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
            fs.rmSync(backend, { recursive: true, force: true });
        }
    });
});
