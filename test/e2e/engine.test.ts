// Proof that the engine is real: the Pulumi CLI built by scripts/install-tools.sh, driven through the
// Automation API on a throwaway file:// backend, creates a command and a container pinned by digest, then destroys them.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { toolEnv } from "../../cli/workspace";
import { containerId, exec, freePort, health, ref, releases, ROOT, tmpDir, uniq } from "../support/infra";

describe("the Pulumi engine (real, no mocks)", function () {
    this.timeout(180000);

    it("runs up and destroy of a command and a digest-pinned container", async () => {
        const backend = tmpDir("engine-state");
        const name = uniq("engine").replace(/_/g, "-");
        const port = await freePort();
        const image = ref(releases()["v1.0.0"]);
        const env = { ...toolEnv(process.env, ROOT), PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "engine-test" };
        const program = async () => {
            const hello = new command.local.Command("hello", { create: "echo hello from the engine" });
            const app = new command.local.Command("container", {
                interpreter: ["/bin/bash", "-c"],
                create: 'docker run -d --name "$NAME" --network host -e PORT "$IMAGE"',
                delete: 'docker rm -f "$NAME"',
                environment: { NAME: name, PORT: String(port), IMAGE: image },
            });
            return { hello: hello.stdout, containerId: app.stdout, image: pulumi.output(image) };
        };
        const stack = await LocalWorkspace.createOrSelectStack(
            { stackName: "engine", projectName: "engine-check", program },
            {
                workDir: tmpDir("engine-work"), envVars: env,
                pulumiCommand: await PulumiCommand.get({ root: path.join(ROOT, ".tools"), skipVersionCheck: false }),
            },
        );
        try {
            const version = exec("pulumi", ["version"], env).stdout.trim();
            expect(version).to.match(/^v3\.\d+\.\d+$/);
            const up = await stack.up();
            expect(up.summary.result).to.equal("succeeded");
            expect(up.summary.resourceChanges).to.deep.include({ create: 3 });
            expect(up.outputs.hello.value).to.equal("hello from the engine");
            expect(containerId(name)).to.equal(up.outputs.containerId.value);
            expect(exec("docker", ["inspect", "-f", "{{.Config.Image}}", name]).stdout.trim()).to.equal(image);
            let answer;
            for (let i = 0; i < 50 && !answer; i++) {
                answer = await health(port);
                if (!answer) await new Promise(r => setTimeout(r, 100));
            }
            expect(answer?.body).to.deep.equal({ status: "ok", version: "v1.0.0" });

            const destroy = await stack.destroy();
            expect(destroy.summary.result).to.equal("succeeded");
            expect(containerId(name)).to.equal("");
            expect(await health(port)).to.equal(undefined);
        } finally {
            exec("docker", ["rm", "-f", name]);
            await stack.workspace.removeStack("engine", { force: true }).catch(() => undefined);
            fs.rmSync(backend, { recursive: true, force: true });
        }
    });
});
