// Reading the engine's event log after a failed update: did any resource begin to change?
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { anyChange, settingsMaySet } from "../../cli/update";

describe("update event log", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "events-"));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const log = (name: string, events: object[]) => {
        const f = path.join(dir, name);
        fs.writeFileSync(f, events.map(e => JSON.stringify(e)).join("\n") + "\n");
        return f;
    };
    const pre = (op: string) => ({ sequence: 1, timestamp: 1, resourcePreEvent: { metadata: { op, urn: "urn:x", type: "t" } } });

    it("finds a step that changes a resource", () => {
        expect(anyChange(log("a", [{ preludeEvent: { config: {} } }, pre("same"), pre("create-replacement")]))).to.equal(true);
    });

    it("counts only same steps, and no steps, as no change", () => {
        expect(anyChange(log("b", [pre("same"), pre("same"), { summaryEvent: { resourceChanges: {} } }]))).to.equal(false);
        expect(anyChange(log("c", []))).to.equal(false);
    });

    it("treats a missing log (the engine never started) as no change, and skips a torn last line", () => {
        expect(anyChange(path.join(dir, "none"))).to.equal(false);
        const f = path.join(dir, "d");
        fs.writeFileSync(f, JSON.stringify(pre("same")) + "\n" + '{"resourcePreEvent": {"metadata": {"op": "upd');
        expect(anyChange(f)).to.equal(false);
    });
});

describe("keys a stack's settings file may set", () => {
    const file = [
        "encryptionsalt: v1:abc",
        "config:",
        "  api-server:dbName: app",
        '  "api-server:downImage": ""',
        "  release:version: v1.0.0",
        "  # api-server:restoreDump was removed",
        "  release:notes: mentions provenanceOverride in a value",
    ].join("\n");

    it("keeps keys whose name occurs in the text, quoted, commented or in a value", () => {
        const keys = ["api-server:downImage", "release:version", "api-server:restoreDump", "api-server:provenanceOverride"];
        expect(settingsMaySet(file, keys)).to.deep.equal(keys);
    });

    it("drops keys whose name occurs nowhere, and all keys when there is no file", () => {
        expect(settingsMaySet(file, ["api-server:atomicRecoveryOf", "release:images", "release:version"])).to.deep.equal(["release:version"]);
        expect(settingsMaySet(undefined, ["release:version"])).to.deep.equal([]);
    });
});
