// Stack history as the release record: numbering, rows, and rollback target selection.
import { expect } from "chai";
import {
    RefusedError, currentRelease, historyRows, historyTable, numbered, releaseConfigOf, selectRollbackTarget, UpdateLike,
} from "../../cli/history";

const D = (n: string) => "sha256:" + n.repeat(64);

function update(minute: number, version: string, result = "succeeded", extra: Record<string, string> = {}, kind = "update"): UpdateLike {
    const config: Record<string, { value: string }> = {
        "release:version": { value: version },
        "release:gitSha": { value: version.replace(/\D/g, "").padEnd(40, "a") },
        "release:image": { value: "127.0.0.1:5000/acme/api" },
        "release:imageDigest": { value: D(version.slice(-1)) },
        "release:schemaVersion": { value: version === "v1.0.0" ? "1" : "2" },
        "api-server:dbPassword": { value: "[secret]" },
    };
    for (const [k, v] of Object.entries(extra)) config[k] = { value: v };
    return { version: 0, kind, result, startTime: new Date(Date.UTC(2026, 10, 1, 12, minute)).toISOString(), config };
}

describe("stack history", () => {
    // Self-managed backends list newest first and report version 0.
    const h = [
        update(5, "v1.2.0", "failed"),
        update(4, "v1.1.0", "succeeded", { "api-server:kind": "rollback", "api-server:replacesVersion": "v1.2.0" }),
        update(3, "v1.2.0"),
        update(2, "v1.1.0"),
        update(1, "v1.0.0"),
        update(0, "", "succeeded", {}, "refresh"),
    ];

    it("numbers updates from the oldest when the backend has no update numbers", () => {
        expect(numbered(h).map(x => x.seq)).to.deep.equal([6, 5, 4, 3, 2, 1]);
        expect(numbered([...h].reverse()).map(x => x.seq)).to.deep.equal([6, 5, 4, 3, 2, 1]);
    });

    it("keeps the backend's update numbers when it has them", () => {
        const withNumbers = h.map((u, i) => ({ ...u, version: 60 - i * 10 }));
        expect(numbered(withNumbers).map(x => x.seq)).to.deep.equal([60, 50, 40, 30, 20, 10]);
    });

    it("lists version, digest, git SHA, schema, kind and result, newest first", () => {
        const rows = historyRows(h);
        expect(rows[0]).to.deep.include({ update: 6, version: "v1.2.0", result: "failed", kind: "deploy", imageDigest: D("0") });
        expect(rows[1]).to.deep.include({ update: 5, kind: "rollback", replacesVersion: "v1.2.0", version: "v1.1.0" });
        expect(rows[5]).to.deep.include({ operation: "refresh", version: "" });
        const table = historyTable(rows);
        expect(table.split("\n")).to.have.length(8);
        expect(table).to.include("rollback (from v1.2.0, db keep)");
    });

    it("takes the newest successful update as the release running now", () => {
        expect(currentRelease(h)?.update).to.equal(5);
        expect(currentRelease(h)?.version).to.equal("v1.1.0");
    });

    it("picks the newest successful update of the target version", () => {
        expect(selectRollbackTarget(h, "v1.0.0").update).to.equal(2);
        expect(releaseConfigOf(h, 2)).to.deep.equal({
            version: "v1.0.0", gitSha: "100".padEnd(40, "a"), image: "127.0.0.1:5000/acme/api", imageDigest: D("0"), schemaVersion: "1",
        });
        expect(historyRows(h).find(r => r.update === 2)?.schemaRange).to.equal("any");
    });

    it("never picks a failed update, and 'previous' is the newest successful other release", () => {
        expect(selectRollbackTarget(h, "v1.2.0").update).to.equal(4);
        const succeededLast = h.filter(u => u.result === "succeeded" || u.kind !== "update");
        expect(selectRollbackTarget(succeededLast, "previous").version).to.equal("v1.2.0");
    });

    it("after a deploy that failed before switching, refuses 'previous' and names the release that still serves", () => {
        expect(() => selectRollbackTarget(h, "previous", "v1.1.0")).to.throw(RefusedError,
            "the last update (deploy v1.2.0) failed before it switched, so v1.1.0, the release before it, still serves; nothing to roll back");
        expect(() => selectRollbackTarget(h, "previous")).to.throw(RefusedError, "v1.1.0, the release before it, still serves");
        expect(selectRollbackTarget(h, "v1.0.0", "v1.1.0").version, "an older release can still be named").to.equal("v1.0.0");
    });

    it("after a deploy that failed after switching, 'previous' converges back to the release that served before it", () => {
        expect(selectRollbackTarget(h, "previous", "v1.2.0").version).to.equal("v1.1.0");
        expect(selectRollbackTarget(h, "v1.1.0", "v1.2.0").update).to.equal(5);
    });

    it("never copies secrets or non-release keys", () => {
        expect(Object.keys(releaseConfigOf(h, 4))).to.not.include("dbPassword");
    });

    it("refuses an unknown target and lists the versions it can roll back to", () => {
        expect(() => selectRollbackTarget(h, "v9.9.9")).to.throw(RefusedError, "v9.9.9 is not a successful release in this stack's history; rollback targets: v1.2.0, v1.0.0");
    });

    it("refuses the release that is running now", () => {
        expect(() => selectRollbackTarget(h, "v1.1.0")).to.throw(RefusedError, "v1.1.0 is the release running now");
    });

    it("refuses when there is nothing to go back to", () => {
        expect(() => selectRollbackTarget([update(1, "v1.0.0")], "previous")).to.throw(RefusedError, "no previous release");
        expect(() => selectRollbackTarget([], "previous")).to.throw(RefusedError, "no successful release");
    });
});
