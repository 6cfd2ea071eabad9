// Schema ranges and the pure checks built on them.
import { expect } from "chai";
import { parseCriticalEndpoints, rangeProblems } from "../../components/config";
import {
    deployRangeProblem, dirtyProblem, inRange, keepRollbackProblem, missingDownsFor, parseVersionLine, rangeOf, showRange, upsWithoutDown,
} from "../../components/schema";
import { causeOf } from "../../cli/failure";

describe("schema ranges", () => {
    it("treats an undeclared end as unbounded, and no range as any schema", () => {
        expect(inRange(5, rangeOf(undefined, undefined))).to.equal(true);
        expect(inRange(0, rangeOf("1", ""))).to.equal(false);
        expect(inRange(9, rangeOf("1", ""))).to.equal(true);
        expect(inRange(4, rangeOf("", "3"))).to.equal(false);
        expect([showRange(rangeOf("1", "3")), showRange(rangeOf("", "")), showRange(rangeOf("2", ""))]).to.deep.equal(["1..3", "any", "2.."]);
    });

    it("refuses a keep rollback onto a schema outside the target's range, naming --db down and --db restore", () => {
        const target = { version: "v1.0.0", schemaVersion: 1, range: rangeOf("1", "3") };
        expect(keepRollbackProblem(target, { version: 3, dirty: false }, { version: "v1.4.0" })).to.equal(undefined);
        const p = keepRollbackProblem(target, { version: 4, dirty: false }, { version: "v1.4.0" })!;
        expect(p).to.equal("v1.0.0 runs on schema 1..3, but the database is at schema 4, so an app-only rollback (--db keep) would leave it on a schema it cannot use; nothing was changed. " +
            "Use --db down to run v1.4.0's down migrations to schema 1 first (keeps the data), or --db restore to restore the dump taken before v1.4.0 (discards writes since)");
        expect(p).to.not.include("\n");
        expect(keepRollbackProblem({ ...target, range: rangeOf(undefined, undefined) }, { version: 9, dirty: false }, { version: "v1.4.0" }), "no range: as before").to.equal(undefined);
    });

    it("refuses a deploy whose range excludes the schema it would run on (a schema ahead is kept)", () => {
        const rel = { version: "v1.1.0", schemaVersion: 2, range: rangeOf("2", "3") };
        expect(deployRangeProblem(rel, { version: 1, dirty: false })).to.equal(undefined);
        expect(deployRangeProblem(rel, { version: 3, dirty: false })).to.equal(undefined);
        expect(deployRangeProblem(rel, { version: 4, dirty: false })).to.match(/^v1\.1\.0 runs on schema 2\.\.3, but the database is at schema 4 and a schema ahead of the target is kept; nothing was changed/);
        expect(deployRangeProblem({ version: "v2.0.0", schemaVersion: 5, range: rangeOf("5", "5") }, { version: 1, dirty: false })).to.equal(undefined);
    });

    it("gives the exact recovery for a dirty schema", () => {
        expect(dirtyProblem({ version: 3, dirty: true }, "prod", "v1.1.0")).to.equal(
            "the database is dirty at schema 3: migration 3 failed halfway (its transaction was rolled back, so the tables are as at schema 2); v1.1.0 still serves. " +
            "Check the schema, then mark it clean with: deployctl force-schema 2 --stack prod --yes, and run this command again");
    });

    it("parses the migration tool's version line", () => {
        expect(parseVersionLine("3 false")).to.deep.equal({ version: 3, dirty: false });
        expect(parseVersionLine("3 true\n")).to.deep.equal({ version: 3, dirty: true });
        expect(parseVersionLine("error: no")).to.equal(undefined);
    });

    it("finds up-migrations without their down file, and the ones a down-migration needs", () => {
        const files = ["001_a.up.sql", "001_a.down.sql", "002_b.up.sql", "005_c.up.sql", "README", "004_d.up.sql", "004_d.down.sql"];
        expect(upsWithoutDown(files)).to.deep.equal([2, 5]);
        expect(missingDownsFor(files, 5, 2)).to.deep.equal([5]);
        expect(missingDownsFor(files, 4, 1)).to.deep.equal([2]);
        expect(missingDownsFor(files, 4, 2)).to.deep.equal([]);
    });
});

describe("schema range and critical endpoint config", () => {
    it("refuses a range whose minimum is above its maximum, or that excludes the release's own target", () => {
        expect(rangeProblems({ schemaVersion: "2", schemaMin: "3", schemaMax: "1" })).to.deep.equal([
            'release:schemaMin "3" is above release:schemaMax "1": a schema range needs min <= max']);
        expect(rangeProblems({ schemaVersion: "5", schemaMin: "1", schemaMax: "3" })).to.deep.equal([
            'release:schemaMax "3" is below release:schemaVersion "5": the range must include the release\'s own target schema']);
        expect(rangeProblems({ schemaVersion: "1", schemaMin: "2" })).to.deep.equal([
            'release:schemaMin "2" is above release:schemaVersion "1": the range must include the release\'s own target schema']);
        expect(rangeProblems({ schemaVersion: "2", schemaMin: "1", schemaMax: "3" })).to.deep.equal([]);
        expect(rangeProblems({ schemaVersion: "2" })).to.deep.equal([]);
    });

    it("refuses a critical endpoint that is not an absolute path, or a status outside 100-599", () => {
        const problems: string[] = [];
        const ok = parseCriticalEndpoints([{ path: "/items", status: 200 }, { path: "items", status: 200 }, { path: "/x", status: 700 }, { path: "/y", status: "99" }, { path: "/z $(id)" }], problems);
        expect(ok).to.deep.equal([{ path: "/items", status: 200 }]);
        expect(problems).to.deep.equal([
            'api-server:criticalEndpoints[1].path "items" is invalid: must be an absolute URL path like /items',
            'api-server:criticalEndpoints[2].status "700" is invalid: must be an HTTP status from 100 to 599',
            'api-server:criticalEndpoints[3].status "99" is invalid: must be an HTTP status from 100 to 599',
            'api-server:criticalEndpoints[4].path "/z $(id)" is invalid: must be an absolute URL path like /items',
        ]);
        const notList: string[] = [];
        parseCriticalEndpoints({ path: "/items" }, notList);
        expect(notList).to.have.length(1);
    });
});

describe("the cause of a failed update", () => {
    it("names the failing step with the tool's own words", () => {
        const text = [
            "Updating (e2e)", "  command:local:Command smoke-check creating (1s) smoke: /health answered 200",
            "error: update failed",
            "    error: exit status 1: running \"set -euo pipefail\\n...\":",
            "    smoke: last log lines of api:", "    smoke:   items: relation \"items\" does not exist",
            "    smoke failed: critical endpoint /items answered 500, expected 200: {\"error\":\"boom\"}",
        ].join("\n");
        expect(causeOf(text)).to.equal('smoke failed: critical endpoint /items answered 500, expected 200: {"error":"boom"}');
    });

    it("falls back to the engine's first error line", () => {
        expect(causeOf("Previewing\nerror: release:version \"latest\" is invalid: must be a SemVer\nerror: update failed")).to.equal('release:version "latest" is invalid: must be a SemVer');
    });

    it("reads the error line of a failed CLI call's text, without its stderr label", () => {
        expect(causeOf("code: 255\n stdout: \n stderr: error: configuration key 'x' not found for stack 'prod'\n err?: \n")).to.equal("configuration key 'x' not found for stack 'prod'");
    });
});
