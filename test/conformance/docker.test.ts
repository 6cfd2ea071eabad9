// The docker stand-in (tools/docker-provider) against the upstream contract of @pulumi/docker 4.11.2:
// pulumi/pulumi-docker v4.11.2, which bridges kreuzwerker/terraform-provider-docker v3.9.0. Rules
// name the upstream file they were read from (kreuzwerker's internal/provider/ unless said
// otherwise; "resources.go" is pulumi-docker's provider/resources.go). Real engine, real Docker,
// the local registry, and the @pulumi/docker SDK; everything runs on loopback.
import * as docker from "@pulumi/docker";
import { LocalWorkspace, Stack, EngineEvent } from "@pulumi/pulumi/automation";
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { toolEnv } from "../../cli/workspace";
import { exec, freePort, health, releases, ref, ROOT, tmpDir, uniq } from "../support/infra";

type Build = () => Record<string, unknown>;

const REGISTRY = "127.0.0.1:5000";

/** Builds the test app's image with a label of its own, pushes it to a repository of its own and returns repo@digest. */
function privateCopy(repo: string): string {
    const source = ref(releases()["v1.0.0"]);
    const tag = `${REGISTRY}/conformance/${repo}:t`;
    const ctx = tmpDir("conformance-image");
    fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${source}\nLABEL conformance.copy="${repo}"\n`);
    const built = exec("docker", ["build", "-q", "-t", tag, ctx], { DOCKER_BUILDKIT: "0" });
    if (built.code !== 0) throw new Error(`docker build ${tag}: ${built.stderr}`);
    const push = exec("docker", ["push", tag]);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
    if (!digest) throw new Error(`docker push ${tag}: ${push.stdout}${push.stderr}`);
    exec("docker", ["rmi", tag]);
    fs.rmSync(ctx, { recursive: true, force: true });
    return `${REGISTRY}/conformance/${repo}@${digest}`;
}

const local = (name: string) => exec("docker", ["image", "inspect", name]).code === 0;
const inspect = (id: string, format: string) => exec("docker", ["inspect", "-f", format, id]).stdout.trim();

describe("docker stand-in conformance (real engine, real Docker, @pulumi/docker SDK)", function () {
    this.timeout(180000);
    const backend = tmpDir("conformance-docker-state");
    let stack: Stack;
    let build: Build = () => ({});
    let image: string;
    const envVars: Record<string, string> = { ...toolEnv({ ...process.env, PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "conformance" } as NodeJS.ProcessEnv, ROOT), PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "conformance" };
    // `ssh` with the test hosts' client config (scripts/test-hosts.sh) first on PATH, for the ssh:// rule.
    envVars.PATH = `${path.join(ROOT, ".local", "hosts", "bin")}:${envVars.PATH}`;

    const up = async (b: Build, events?: EngineEvent[]) => {
        build = b;
        return stack.up({ color: "never", onEvent: events ? e => events.push(e) : undefined });
    };
    const failedUp = async (b: Build): Promise<string> => up(b).then(() => "", (e: Error) => e.message);
    const resources = async () => (await stack.exportStack()).deployment.resources as { type: string; id?: string; outputs?: Record<string, unknown>; initErrors?: string[] }[];
    const ops = (events: EngineEvent[]) => events.filter(e => e.resourcePreEvent?.metadata.type.startsWith("docker:")).map(e => e.resourcePreEvent!.metadata.op);

    before(() => {
        image = privateCopy(uniq("img").replace(/_/g, "-"));
    });
    beforeEach(async () => {
        stack = await LocalWorkspace.createOrSelectStack({ projectName: "conformance-docker", stackName: uniq("d").replace(/_/g, "-"), program: async () => build() }, { envVars });
    });
    afterEach(async () => {
        await stack.refresh({ color: "never" }).catch(() => undefined);
        await stack.destroy({ color: "never" }).catch(() => undefined);
        await stack.workspace.removeStack(stack.name).catch(() => undefined);
    });
    after(() => fs.rmSync(backend, { recursive: true, force: true }));

    describe("RemoteImage", () => {
        it("pulls an image that is not on the host; id is imageId followed by the name (resource_docker_image_funcs.go Create/Read, data_source_docker_image.go determineRepoDigest)", async () => {
            exec("docker", ["rmi", image]);
            expect(local(image), "absent before").to.equal(false);
            const r = await up(() => {
                const i = new docker.RemoteImage("i", { name: image, keepLocally: true });
                return { id: i.id, imageId: i.imageId, repoDigest: i.repoDigest };
            });
            expect(local(image), "pulled").to.equal(true);
            expect(r.outputs.imageId.value).to.match(/^sha256:[0-9a-f]{64}$/);
            expect(r.outputs.repoDigest.value).to.equal(image);
            expect(r.outputs.id.value).to.equal(`${r.outputs.imageId.value}${image}`);
        });

        it("does not pull an image already on the host, so a digest gone from the registry still works (findImage)", async () => {
            const gone = privateCopy(uniq("gone").replace(/_/g, "-"));
            exec("docker", ["pull", "-q", gone]);
            const [repo, digest] = gone.split("@");
            const del = exec("curl", ["-fsS", "-X", "DELETE", `http://${REGISTRY}/v2/${repo.slice(REGISTRY.length + 1)}/manifests/${digest}`]);
            expect(del.code, del.stderr).to.equal(0);
            await up(() => ({ id: new docker.RemoteImage("i", { name: gone, keepLocally: true }).id }));
            // The image must really be gone from the host before the second up (a removal can fail while the
            // engine is still busy with the previous update): retried, then required.
            for (let i = 0; i < 20 && local(gone); i++) {
                exec("docker", ["rmi", "-f", gone]);
                if (local(gone)) await new Promise(r => setTimeout(r, 250));
            }
            expect(local(gone), `docker rmi -f ${gone} left it on the host`).to.equal(false);
            const err = await failedUp(() => ({ id: new docker.RemoteImage("j", { name: gone, keepLocally: true }).id }));
            expect(err).to.include(`Unable to read Docker image into resource: unable to pull image ${gone}`);
        });

        it("keepLocally leaves the image on delete; without it the image is removed by name (removeImage)", async () => {
            await up(() => ({ id: new docker.RemoteImage("i", { name: image, keepLocally: true }).id }));
            await stack.destroy({ color: "never" });
            expect(local(image), "kept").to.equal(true);
            await up(() => ({ id: new docker.RemoteImage("i", { name: image }).id }));
            await stack.destroy({ color: "never" });
            expect(local(image), "removed").to.equal(false);
        });

        it("changes keepLocally in place; a new name replaces, creating the new image before deleting the old (resource_docker_image.go ForceNew; no DeleteBeforeReplace in resources.go)", async () => {
            const other = privateCopy(uniq("other").replace(/_/g, "-"));
            await up(() => ({ id: new docker.RemoteImage("i", { name: image, keepLocally: true }).id }));
            const u = await up(() => ({ id: new docker.RemoteImage("i", { name: image, keepLocally: false }).id }));
            expect(u.summary.resourceChanges).to.deep.include({ update: 1 });
            const events: EngineEvent[] = [];
            const r = await up(() => ({ id: new docker.RemoteImage("i", { name: other, keepLocally: true }).id }), events);
            expect(r.summary.resourceChanges).to.deep.include({ replace: 1 });
            const seen = ops(events);
            expect(seen.indexOf("create-replacement"), seen.join(",")).to.be.lessThan(seen.indexOf("delete-replaced"));
        });

        it("a refresh drops an image removed from the host (resourceDockerImageRead)", async () => {
            await up(() => ({ id: new docker.RemoteImage("i", { name: image, keepLocally: true }).id }));
            exec("docker", ["rmi", image]);
            await stack.refresh({ color: "never" });
            expect((await resources()).some(r => r.type === "docker:index/remoteImage:RemoteImage")).to.equal(false);
        });

        it("an explicit provider whose host does not answer fails with the daemon check's message (config.go MakeClient)", async () => {
            const host = `unix://${tmpDir("no-docker")}/docker.sock`;
            const err = await failedUp(() => {
                const provider = new docker.Provider("p", { host });
                return { id: new docker.RemoteImage("i", { name: image, keepLocally: true }, { provider }).id };
            });
            expect(err).to.include(`Error pinging Docker server, please make sure that ${host} is reachable`);
        });

        it("an explicit provider with an ssh:// host works on the engine that ssh reaches, through `ssh … docker system dial-stdio` (config.go: connhelper.GetConnectionHelperWithSSHOpts)", async () => {
            const hosts = path.join(ROOT, "scripts", "test-hosts.sh");
            const started = exec("bash", [hosts, "up", "2"]);
            expect(started.code, started.stdout + started.stderr).to.equal(0);
            const [, socket, ssh] = exec("bash", [hosts, "env", "2"]).stdout.trim().split(" ");
            const onHost2 = () => exec("docker", ["image", "inspect", image], { DOCKER_HOST: socket }).code === 0;
            try {
                exec("docker", ["rmi", image], { DOCKER_HOST: socket });
                const result = await up(() => {
                    const provider = new docker.Provider("p", { host: ssh });
                    return { id: new docker.RemoteImage("i", { name: image, keepLocally: false }, { provider }).id };
                });
                expect(String(result.outputs.id.value)).to.match(/^sha256:[0-9a-f]{64}/);
                expect(onHost2(), "pulled on the engine behind ssh").to.equal(true);
                await stack.destroy({ color: "never" });
                expect(onHost2(), "removed there on delete").to.equal(false);
                // An ssh host that refuses the connection fails with the daemon check's message and ssh's own words.
                const err = await failedUp(() => {
                    const provider = new docker.Provider("q", { host: "ssh://root@127.0.0.1:1" });
                    return { id: new docker.RemoteImage("j", { name: image, keepLocally: true }, { provider }).id };
                });
                expect(err).to.include("Error pinging Docker server, please make sure that ssh://root@127.0.0.1:1 is reachable");
                expect(err).to.include("Connection refused");
            } finally {
                exec("bash", [hosts, "down"]);
            }
        });
    });

    describe("Container", () => {
        let port: number;
        beforeEach(async () => {
            port = await freePort();
        });
        const app = (name: string, args: Partial<docker.ContainerArgs> = {}) => () => {
            const c = new docker.Container(name, {
                image, networkMode: "host", envs: [`PORT=${port}`], ...args,
            });
            return { id: c.id, name: c.name, mustRun: c.mustRun, restart: c.restart, waitTimeout: c.waitTimeout, removeVolumes: c.removeVolumes, start: c.start };
        };

        it("auto-names <name>-<7 hex>, fills the schema defaults, and keeps both through an in-place update (bridge autonaming.go; resource_docker_container.go defaults)", async () => {
            const r = await up(app("web"));
            expect(r.outputs.name.value).to.match(/^web-[0-9a-f]{7}$/);
            expect([r.outputs.mustRun.value, r.outputs.start.value, r.outputs.restart.value, r.outputs.waitTimeout.value, r.outputs.removeVolumes.value])
                .to.deep.equal([true, true, "no", 60, true]);
            expect((await health(port))?.status, "the container serves").to.equal(200);
            const u = await up(app("web", { destroyGraceSeconds: 5, mustRun: true }));
            expect(u.summary.resourceChanges).to.deep.include({ update: 1 });
            expect(u.outputs.id.value).to.equal(r.outputs.id.value);
            expect(u.outputs.name.value).to.equal(r.outputs.name.value);
        });

        it("replaces on an env change by deleting the old container first (resources.go DeleteBeforeReplace: true)", async () => {
            const name = uniq("dbr").replace(/_/g, "-");
            const r = await up(app("web", { name, envs: [`PORT=${port}`, "A=1"] }));
            const events: EngineEvent[] = [];
            const u = await up(app("web", { name, envs: [`PORT=${port}`, "A=2"] }), events);
            expect(u.summary.resourceChanges).to.deep.include({ replace: 1 });
            expect(u.outputs.id.value).to.not.equal(r.outputs.id.value);
            const seen = ops(events);
            expect(seen.indexOf("delete-replaced"), seen.join(",")).to.be.lessThan(seen.indexOf("create-replacement"));
            expect(exec("docker", ["inspect", String(r.outputs.id.value)]).code, "the old container is gone").to.not.equal(0);
        });

        it("treats envs as a set: a reordering changes nothing (resource_docker_container.go envs TypeSet)", async () => {
            await up(app("web", { envs: [`PORT=${port}`, "A=1"] }));
            const u = await up(app("web", { envs: ["A=1", `PORT=${port}`] }));
            expect(u.summary.resourceChanges).to.deep.equal({ same: 2 });
        });

        it("updates the restart policy of the running container in place (resourceDockerContainerUpdate)", async () => {
            const r = await up(app("web"));
            const u = await up(app("web", { restart: "unless-stopped" }));
            expect(u.summary.resourceChanges).to.deep.include({ update: 1 });
            expect(u.outputs.id.value).to.equal(r.outputs.id.value);
            expect(inspect(String(r.outputs.id.value), "{{.HostConfig.RestartPolicy.Name}}")).to.equal("unless-stopped");
        });

        it("uploads files before the container starts, executable as 0744, and replaces it when their content changes (resourceDockerContainerCreate uploads; ForceNew)", async () => {
            const r = await up(app("web", { uploads: [{ file: "/etc/greeting", content: "one" }, { file: "/bin-tool", content: "x", executable: true }] }));
            const id = String(r.outputs.id.value);
            const copied = exec("sh", ["-c", `docker cp ${id}:/etc/greeting - | tar -xO`]).stdout;
            expect(copied).to.equal("one");
            const mode = exec("sh", ["-c", `docker cp ${id}:/bin-tool - | tar -tv`]).stdout;
            expect(mode).to.match(/^-rwxr--r--/);
            const u = await up(app("web", { uploads: [{ file: "/etc/greeting", content: "two" }, { file: "/bin-tool", content: "x", executable: true }] }));
            expect(u.summary.resourceChanges).to.deep.include({ replace: 1 });
        });

        const healthcheck = { tests: ["CMD", "/app", "healthcheck"], interval: "1s", timeout: "2s", retries: 2 };

        it("with wait, is created only once its healthcheck passes (resourceDockerContainerCreate)", async () => {
            const r = await up(app("web", { healthcheck, wait: true, waitTimeout: 30 }));
            expect(inspect(String(r.outputs.id.value), "{{.State.Health.Status}}")).to.equal("healthy");
        });

        it("with wait, a container that never turns healthy fails the update and stays in the state as partially created; the next up replaces it", async () => {
            const err = await failedUp(app("web", { healthcheck, wait: true, waitTimeout: 4, envs: [`PORT=${port}`, "HEALTH_FAIL=1"] }));
            expect(err).to.include("container failed to be in healthy state");
            const c = (await resources()).find(x => x.type === "docker:index/container:Container");
            expect(c?.initErrors?.join(" ")).to.include("container failed to be in healthy state");
            const failedId = String(c?.id);
            expect(inspect(failedId, "{{.State.Running}}"), "the unhealthy container is left running").to.equal("true");
            const r = await up(app("web", { healthcheck, wait: true, waitTimeout: 30 }));
            expect(r.summary.resourceChanges).to.deep.include({ replace: 1 });
            expect(exec("docker", ["inspect", failedId]).code, "the failed one is removed").to.not.equal(0);
        });

        it("with wait but no healthcheck, fails with upstream's message (resourceDockerContainerCreate)", async () => {
            const err = await failedUp(app("web", { wait: true, waitTimeout: 5 }));
            expect(err).to.include("you have supplied a 'wait' argument, but the container does not have a healthcheck defined");
        });

        /** GET /slow on the app: resolves with the status, or "failed" when the connection breaks. */
        const slow = (ms: number) => new Promise<number | "failed">(resolve => {
            http.get({ host: "127.0.0.1", port, path: `/slow?ms=${ms}`, timeout: 15000 }, res => {
                res.resume();
                res.on("end", () => resolve(res.statusCode ?? 0));
            }).on("error", () => resolve("failed"));
        });
        const inFlightThenDestroy = async () => {
            const answer = slow(3000);
            await new Promise(r => setTimeout(r, 300));
            await stack.destroy({ color: "never" });
            return answer;
        };

        it("stops with destroyGraceSeconds on delete, so an in-flight request completes; without it the container is killed at once (resourceDockerContainerDelete)", async () => {
            const since = Math.floor(Date.now() / 1000) - 1;
            const graceful = await up(app("web", { destroyGraceSeconds: 10 }));
            expect(await inFlightThenDestroy(), "the in-flight request finished").to.equal(200);
            port = await freePort();
            const abrupt = await up(app("web"));
            expect(await inFlightThenDestroy(), "the in-flight request was cut").to.equal("failed");
            const exitCode = (id: unknown) => exec("docker", ["events", "--since", String(since), "--until", String(Math.ceil(Date.now() / 1000)),
                "--filter", `container=${id}`, "--filter", "event=die", "--format", "{{.Actor.Attributes.exitCode}}"]).stdout.trim();
            expect(exitCode(graceful.outputs.id.value), "SIGTERM, and the app shut down cleanly").to.equal("0");
            expect(exitCode(abrupt.outputs.id.value), "killed").to.equal("137");
        });

        it("mustRun: a refresh drops a stopped container and removes it; the next up creates a new one (resourceDockerContainerRead)", async () => {
            const r = await up(app("web"));
            exec("docker", ["stop", "-t", "1", String(r.outputs.id.value)]);
            await stack.refresh({ color: "never" });
            expect((await resources()).some(x => x.type === "docker:index/container:Container")).to.equal(false);
            expect(exec("docker", ["inspect", String(r.outputs.id.value)]).code, "removed").to.not.equal(0);
            const again = await up(app("web"));
            expect(again.summary.resourceChanges).to.deep.include({ create: 1 });
        });

        it("fails to delete a container already removed by hand until a refresh (resourceDockerContainerDelete stops first)", async () => {
            const name = uniq("gone").replace(/_/g, "-");
            const r = await up(app("web", { name }));
            exec("docker", ["rm", "-f", String(r.outputs.id.value)]);
            const err = await stack.destroy({ color: "never" }).then(() => "", (e: Error) => e.message);
            expect(err).to.include(`Error stopping container ${r.outputs.id.value}`);
            await stack.refresh({ color: "never" });
            await stack.destroy({ color: "never" });
        });
    });
});
