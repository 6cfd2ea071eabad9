// The project's own scripts: idempotent, and a clear one-line failure when a port is taken.
import { expect } from "chai";
import * as path from "path";
import { exec, ROOT, stallServer } from "../support/infra";

describe("local infrastructure and toolchain scripts", function () {
    this.timeout(120000);

    it("local-infra up is a no-op when everything already runs", () => {
        const r = exec("bash", [path.join(ROOT, "scripts", "local-infra.sh"), "up"]);
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.match(/docker: using the engine that already answers/);
        expect(r.stdout).to.match(/registry: using the one already answering on 127\.0\.0\.1:5000/);
        expect(r.stdout).to.match(/postgres\s+up\s+127\.0\.0\.1:5432/);
    });

    it("local-infra stops with one line naming a port taken by something else", async () => {
        const busy = await stallServer();
        try {
            const r = exec("bash", [path.join(ROOT, "scripts", "local-infra.sh"), "up"], { REGISTRY_PORT: String(busy.port) });
            expect(r.code).to.equal(1);
            expect(r.stderr.trim()).to.equal(`local-infra: port 127.0.0.1:${busy.port} is in use by something that is not a registry; stop it or set REGISTRY_PORT`);
        } finally {
            busy.close();
        }
    });

    it("install-tools is a no-op at the pinned versions and reports the pinned pulumi", () => {
        const r = exec("bash", [path.join(ROOT, "scripts", "install-tools.sh")]);
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.not.include("building");
        expect(r.stdout).to.match(/ready: pulumi v3\.259\.0/);
    });
});
