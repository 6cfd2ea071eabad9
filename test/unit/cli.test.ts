// deployctl's command line, run in-process through main(): help, exit codes and the
// refusals of bad input. Only cases that open no stack (no Pulumi, no Docker).
import { expect } from "chai";
import { stripVTControlCharacters } from "util";
import { main } from "../../cli/deployctl";

const COMMANDS = ["deploy", "rollback", "maintenance", "force-schema", "status", "releases", "history", "record", "restore", "decide"];

interface Run { code: number; stdout: string; stderr: string }

/** Runs main() with stdout and stderr captured (console.log and console.error write through them). */
async function run(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const write = { out: process.stdout.write, err: process.stderr.write };
    const saved = Object.fromEntries(Object.keys(env).map(k => [k, process.env[k]]));
    const capture = (into: string[]) => ((chunk: string | Uint8Array) => {
        into.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
        return true;
    }) as typeof process.stdout.write;
    for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
    process.stdout.write = capture(out);
    process.stderr.write = capture(err);
    try {
        const code = await main(args);
        return { code, stdout: out.join(""), stderr: err.join("") };
    } finally {
        process.stdout.write = write.out;
        process.stderr.write = write.err;
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    }
}

/** A refusal: exit code 2 and one line on stderr, without colour. */
async function refused(args: string[]): Promise<string> {
    const r = await run(args, { NO_COLOR: "1", FORCE_COLOR: undefined });
    expect(r.code, r.stderr).to.equal(2);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines, r.stderr).to.have.length(1);
    expect(lines[0]).to.match(/^deployctl: /);
    return lines[0];
}

describe("deployctl command line (in-process, no stack)", () => {
    for (const cmd of COMMANDS) {
        it(`${cmd} --help and -h print its usage, what it does and an example, and exit 0`, async () => {
            for (const flag of ["--help", "-h"]) {
                const r = await run([cmd, flag]);
                expect(r.code, r.stderr).to.equal(0);
                expect(r.stderr).to.equal("");
                expect(r.stdout).to.match(new RegExp(`^usage: deployctl ${cmd} `));
                expect(r.stdout).to.include("example: deployctl ");
                expect(r.stdout).to.include("--help");
            }
        });
    }

    it("deployctl --help lists every command and exits 0", async () => {
        const r = await run(["--help"]);
        expect(r.code).to.equal(0);
        expect(r.stderr).to.equal("");
        for (const cmd of COMMANDS) expect(r.stdout).to.match(new RegExp(`^  ${cmd} `, "m"));
        expect(r.stdout).to.include("exit codes: 0 done, 1 an update failed, 2 refused or bad input");
    });

    it("with no arguments prints the usage on stderr and exits 2", async () => {
        const r = await run([]);
        expect(r.code).to.equal(2);
        expect(r.stdout).to.equal("");
        expect(r.stderr).to.match(/^usage: deployctl <command>/);
        for (const cmd of COMMANDS) expect(r.stderr).to.include(`  ${cmd} `);
    });

    it("refuses an unknown command", async () => {
        expect(await refused(["x"])).to.equal('deployctl: unknown command "x" (see deployctl --help)');
        expect(await refused(["help"])).to.equal('deployctl: unknown command "help" (see deployctl --help)');
    });

    it("refuses an option the command does not take, naming it", async () => {
        expect(await refused(["history", "--db", "keep", "--stack", "s"])).to.equal("deployctl: unknown option '--db' (see deployctl history --help)");
        expect(await refused(["decide", "--stack", "s", "--impacting-customers", "yes", "--config-fix", "no"])).to.include("unknown option '--stack'");
        expect(await refused(["--stack", "s", "history"])).to.include("unknown option '--stack': the command comes first");
    });

    it("refuses a flag given twice instead of taking the last value", async () => {
        expect(await refused(["history", "--stack", "a", "--stack", "b"])).to.equal('deployctl: --stack is given twice ("a" and "b"): give it once');
        expect(await refused(["rollback", "v1.0.0", "--db", "keep", "--db=restore", "--stack", "s"])).to.equal('deployctl: --db is given twice ("keep" and "restore"): give it once');
        expect(await refused(["rollback", "v1.0.0", "--yes", "--yes", "--stack", "s"])).to.equal("deployctl: --yes is given twice: give it once");
        expect(await refused(["decide", "--impacting-customers", "yes", "--impacting-customers", "no", "--config-fix", "no"])).to.include("--impacting-customers is given twice");
    });

    it("refuses too many arguments, a missing option value, and a value that looks like an option", async () => {
        expect(await refused(["rollback", "v1.0.0", "v1.1.0", "--stack", "s"])).to.include("too many arguments for 'rollback'");
        expect(await refused(["history", "extra", "--stack", "s"])).to.include("too many arguments for 'history'");
        expect(await refused(["history", "--stack"])).to.include("option '--stack <S>' argument missing");
        expect(await refused(["deploy", "--stack", "s", "--schema", "-1"])).to.include("Option '--schema' argument is ambiguous");
        expect(await refused(["history", "--stack", "--json"])).to.include("Option '--stack' argument is ambiguous");
    });

    it("decide needs no stack: prints the recommendation and exits 0", async () => {
        const r = await run(["decide", "--impacting-customers", "no", "--config-fix", "no", "--patch-minutes", "10"]);
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stderr).to.equal("");
        expect(r.stdout).to.match(/^recommendation: hotfix\nreason: .*\nnext: .*\n$/);
        const rollback = await run(["decide", "--impacting-customers=yes", "--config-fix", "no", "--regression-in-prior", "no"]);
        expect(rollback.code).to.equal(0);
        expect(rollback.stdout).to.match(/^recommendation: rollback\n/);
    });

    it("decide refuses bad values with its own messages", async () => {
        expect(await refused(["decide", "--config-fix", "no"])).to.equal("deployctl: --impacting-customers is required (yes or no)");
        expect(await refused(["decide", "--impacting-customers", "yes", "--config-fix", "maybe"])).to.equal('deployctl: --config-fix "maybe" is invalid: must be yes or no');
        expect(await refused(["decide", "--impacting-customers", "yes", "--config-fix", "no", "--patch-minutes", "soon"])).to.include("--patch-minutes \"soon\" is invalid");
    });

    it("paints the failure line red only when colour is on", async () => {
        const forced = await run(["x"], { FORCE_COLOR: "1", NO_COLOR: undefined });
        expect(forced.stderr).to.equal('\u001b[31mdeployctl: unknown command "x" (see deployctl --help)\u001b[0m\n');
        const off = await run(["x"], { FORCE_COLOR: undefined, NO_COLOR: "1" });
        expect(off.stderr).to.equal('deployctl: unknown command "x" (see deployctl --help)\n');
        expect(stripVTControlCharacters(forced.stderr)).to.equal(off.stderr);
    });
});
