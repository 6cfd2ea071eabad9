// Benchmarks: how fast the tool deploys and recovers, against the same work done by hand, in one run.
// Usage: node dist/bench/bench.js [--runs N] [--db-gib X[,Y...]] [--out DIR]   (run through scripts/bench.sh)
import autocannon from "autocannon";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { buckets, longestGap, p99Between, Sample, summarize, Summary } from "./stats";
import { exec, freePort, health, pg, psql, ref, releases, ROOT, tmpDir, uniq } from "../test/support/infra";
import { TestStack } from "../test/support/stack";
import { hostsCase, HostsPoint } from "./hosts";
import { must, now, timed } from "./timing";

const { values: args } = parseArgs({ options: { runs: { type: "string" }, "db-gib": { type: "string" }, out: { type: "string" }, cases: { type: "string" } } });
const RUNS = Number(args.runs ?? 3);
/** Database sizes for cases 2, 3 and 7, e.g. --db-gib 1,4 (the growth picture has one point per size). */
const DB_GIBS = String(args["db-gib"] ?? "1,4").split(",").map(Number);
if (DB_GIBS.some(g => !(g > 0)) || DB_GIBS.some((g, i) => i > 0 && g <= DB_GIBS[i - 1])) throw new Error(`--db-gib ${args["db-gib"]}: sizes in GiB, increasing, e.g. 1,4`);
/** The cases to run, e.g. --cases 1,4 (default: all; 7 compares against 1, so it needs it). */
const CASES = new Set(String(args.cases ?? "1,2,3,4,5,6,7,8").split(","));
if ([...CASES].some(c => !/^[1-8]$/.test(c)) || (CASES.has("7") && !CASES.has("1"))) throw new Error(`--cases ${args.cases}: numbers 1 to 8, and 7 only with 1`);
const want = (n: number) => CASES.has(String(n));
const OUT = path.resolve(args.out ?? path.join(ROOT, "bench", "out"));
const rel = releases();
const dynamicImport = new Function("m", "return import(m)") as (m: string) => Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The swap an operator does by hand: pull by digest, stop and remove the old container, run the new one, wait for /health. */
async function rawSwap(name: string, port: number, image: string): Promise<void> {
    must(exec("docker", ["pull", "-q", image]), "docker pull");
    exec("docker", ["rm", "-f", name]);
    must(exec("docker", ["run", "-d", "--name", name, "--network", "host", "-e", `PORT=${port}`, "--restart", "unless-stopped", image]), "docker run");
    for (let i = 0; i < 3000 && (await health(port))?.status !== 200; i++) await new Promise(r => setTimeout(r, 10));
}

/** The migration step by hand with nothing to run: the release image's tool reads the schema version once, as the tool's step does. */
function handMigration(db: string, image: string): void {
    const e = pg(db);
    const url = `postgres://${e.PGUSER}:${encodeURIComponent(e.PGPASSWORD)}@${e.PGHOST}:${e.PGPORT}/${db}?sslmode=disable`;
    must(exec("docker", ["run", "--rm", "--network", "host", "-e", "DATABASE_URL", "--entrypoint", "/migrate", image, "version"], { DATABASE_URL: url }), "migrate version");
}

/** A verified dump by hand: pg_dump -Fc, then pg_restore into a scratch database that is dropped again (what the backup step does). */
function handVerifiedDump(db: string, file: string): void {
    must(exec("pg_dump", ["-Fc", "-f", file], pg(db)), "pg_dump");
    const scratch = `verify_hand_${process.pid}`;
    must(exec("createdb", [scratch], pg(db)), "createdb");
    try {
        must(exec("pg_restore", ["--no-owner", "--exit-on-error", "-d", scratch, file], pg(db)), "pg_restore (verification)");
    } finally {
        exec("dropdb", ["--if-exists", scratch], pg(db));
    }
}

/**
 * Before each timed app-only rollback (cases 1 and 7 alike, and the by-hand side of case 1): the disk writes the update before it
 * left behind (on a large database, gigabytes from its verified dump's scratch restore) are flushed
 * first, so that case 7 compares the rollback's own work at each size, not the previous deploy's tail.
 */
function settle(): void {
    must(exec("sync", []), "sync");
}

/** How many resources an update's output says changed (its "Resources:" block, every count but "unchanged"). */
function changesIn(stdout: string): number {
    const block = stdout.slice(stdout.lastIndexOf("Resources:")).split("\n\n")[0];
    return [...block.matchAll(/(\d+) ([a-z]+)/g)].filter(m => m[2] !== "unchanged").reduce((n, m) => n + Number(m[1]), 0);
}

function pgbenchBin(): string {
    const found = fs.readdirSync("/usr/lib/postgresql").map(v => `/usr/lib/postgresql/${v}/bin/pgbench`).find(f => fs.existsSync(f));
    if (!found) throw new Error("pgbench not found (Debian postgresql package)");
    return found;
}

interface CaseResult { name: string; a: string; b: string; aTimes: number[]; bTimes: number[]; a_: Summary; b_: Summary; ratio: number; extra?: Record<string, unknown> }

function compare(name: string, a: string, b: string, aTimes: number[], bTimes: number[], extra?: Record<string, unknown>): CaseResult {
    const a_ = summarize(aTimes), b_ = summarize(bTimes);
    return { name, a, b, aTimes, bTimes, a_, b_, ratio: a_.median / b_.median, extra };
}

interface Timeline {
    label: string; samples: Sample[]; end: number; phases: { name: string; t: number }[]; sent: number; failed: number; gap: number;
    /** p99 latency (ms) before the update started, and from the container switch to the smoke test. */
    p99Steady: number; p99Switch: number;
}

/** Starts a steady closed-loop load (one connection) on a port's /health, recording each answer's time (ms since start), outcome and latency. */
function startLoad(port: number): { samples: Sample[]; elapsed: () => number; stop: () => void } {
    const samples: Sample[] = [];
    const start = now();
    // One connection, closed loop: a steady stream of requests (a rate limit would send them in one burst per second).
    const load = autocannon({ url: `http://127.0.0.1:${port}/health`, connections: 1, duration: 900, timeout: 2 }, () => undefined);
    load.on("response", (_c: unknown, status: number, _bytes: number, ms: number) => samples.push({ t: now() - start, ok: status === 200, ms }));
    load.on("reqError", () => samples.push({ t: now() - start, ok: false }));
    return { samples, elapsed: () => now() - start, stop: () => load.stop() };
}

/** Runs deployctl with a steady load on the public port, recording each answer and the deploy's phases. */
async function underLoad(label: string, s: TestStack, dargs: string[], port = s.port): Promise<Timeline> {
    const phases: { name: string; t: number }[] = [];
    const load = startLoad(port);
    const { samples } = load;
    await new Promise(r => setTimeout(r, 1000));
    const marks: [RegExp, string][] = [[/backup-dump creating/, "backup"], [/migrations-migrate creating/, "migrations"],
        [/app-container creating/, "container replace"], [/smoke-check creating/, "smoke test"]];
    const began = load.elapsed();
    const child = spawn("node", [path.join(ROOT, "dist", "cli", "deployctl.js"), ...dargs, "--stack", s.name], { env: { ...process.env, ...s.env }, cwd: ROOT });
    let out = "";
    child.stdout.on("data", d => {
        out += d;
        for (const [re, name] of marks) if (re.test(String(d)) && !phases.some(p => p.name === name)) phases.push({ name, t: load.elapsed() });
    });
    const code = await new Promise<number>(r => child.on("close", c => r(c ?? 1)));
    if (code !== 0) throw new Error(`${dargs.join(" ")} failed under load:\n${out.slice(-3000)}`);
    phases.push({ name: "done", t: load.elapsed() });
    await new Promise(r => setTimeout(r, 1000));
    load.stop();
    const end = load.elapsed();
    const at = (name: string) => phases.find(p => p.name === name)?.t;
    const switchFrom = at("container replace") ?? began;
    const switchTo = at("smoke test") ?? at("done")!;
    return {
        label, samples, end, phases, sent: samples.length, failed: samples.filter(x => !x.ok).length, gap: longestGap(samples, end),
        p99Steady: p99Between(samples, 0, began), p99Switch: p99Between(samples, switchFrom, switchTo),
    };
}

/** A steady load on a port while `fn` runs: requests, failures, and the longest time without a successful answer. */
async function loadWhile(port: number, fn: () => Promise<void>): Promise<{ sent: number; failed: number; gap: number }> {
    const load = startLoad(port);
    const { samples } = load;
    await new Promise(r => setTimeout(r, 1000));
    try {
        await fn();
        await new Promise(r => setTimeout(r, 1000));
    } finally {
        load.stop();
    }
    const end = load.elapsed();
    return { sent: samples.length, failed: samples.filter(x => !x.ok).length, gap: longestGap(samples, end) };
}

async function chart(timelines: Timeline[], file: string): Promise<void> {
    const vl = await dynamicImport("vega-lite");
    const vega = await dynamicImport("vega");
    const panel = (tl: Timeline) => ({
        title: `${tl.label}: ${tl.sent} requests, ${tl.failed} failed, longest gap without success ${Math.round(tl.gap)} ms, p99 ${tl.p99Switch.toFixed(1)} ms in the switch (${tl.p99Steady.toFixed(1)} steady)`,
        width: 900, height: 160,
        layer: [
            {
                data: { values: buckets(tl.samples, tl.end).flatMap(b => [{ s: b.t / 1000, n: b.ok, outcome: "ok" }, { s: b.t / 1000, n: b.failed, outcome: "failed" }]) },
                mark: { type: "bar", width: 1.5 },
                encoding: {
                    x: { field: "s", type: "quantitative", title: "seconds" },
                    y: { field: "n", type: "quantitative", title: "requests / 100 ms", stack: "zero" },
                    color: { field: "outcome", type: "nominal", scale: { domain: ["ok", "failed"], range: ["#2ca02c", "#d62728"] } },
                },
            },
            { data: { values: tl.phases.map(p => ({ s: p.t / 1000, name: p.name })) }, mark: { type: "rule", strokeDash: [4, 3] }, encoding: { x: { field: "s", type: "quantitative" } } },
            { data: { values: tl.phases.map(p => ({ s: p.t / 1000, name: p.name })) }, mark: { type: "text", angle: 270, align: "left", dx: 4, dy: -4, fontSize: 10 },
                encoding: { x: { field: "s", type: "quantitative" }, y: { value: 150 }, text: { field: "name" } } },
        ],
    });
    const spec = { $schema: "https://vega.github.io/schema/vega-lite/v5.json", vconcat: timelines.map(panel) };
    const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
    fs.writeFileSync(file, await view.toSVG());
}

/** Time against database size: deploy, app-only rollback and restore rollback (tool medians). */
async function growthChart(points: { gib: number; deploy: number; keep: number; restore: number }[], file: string): Promise<void> {
    const vl = await dynamicImport("vega-lite");
    const vega = await dynamicImport("vega");
    const values = points.flatMap(p => [
        { gib: p.gib, s: p.deploy, what: "deploy (verified backup)" },
        { gib: p.gib, s: p.keep, what: "rollback --db keep" },
        { gib: p.gib, s: p.restore, what: "rollback --db restore" },
    ]).filter(v => Number.isFinite(v.s));
    const spec = {
        $schema: "https://vega.github.io/schema/vega-lite/v5.json", width: 500, height: 260,
        title: "deployctl wall time against database size (medians)",
        data: { values },
        mark: { type: "line", point: true },
        encoding: {
            x: { field: "gib", type: "quantitative", title: "database size (GiB)" },
            y: { field: "s", type: "quantitative", title: "seconds" },
            color: { field: "what", type: "nominal", title: null },
        },
    };
    const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
    fs.writeFileSync(file, await view.toSVG());
}

function fmt(x: Summary): string {
    return `${x.median.toFixed(2)}s (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
}

async function main(): Promise<void> {
    fs.mkdirSync(OUT, { recursive: true });
    const s = await TestStack.create("bench");
    const rawName = uniq("bench-raw").replace(/_/g, "-");
    const rawPort = await freePort();
    const results: CaseResult[] = [];
    const deploy = (v: string) => must(s.deploy(v), `deploy ${v}`);
    try {
        console.log(`bench: stack ${s.name}, ${RUNS} runs per side, databases of ${DB_GIBS.join(" and ")} GiB for cases 2, 3 and 7`);
        deploy("v1.0.0");
        deploy("v1.1.0");

        // 1. App-only rollback vs the same work by hand: a bare pulumi preview of the stack (the engine's
        // floor) plus the raw swap; the raw swap alone is reported beside it.
        // The engine's share: a bare `pulumi up` of the very settings file the tool's rollback ran with
        // (written back untimed), which does the same steps without deployctl's reads and checks.
        const a1: number[] = [], b1: number[] = [], floor: number[] = [], engine: number[] = [];
        if (want(1)) await rawSwap(rawName, rawPort, ref(rel["v1.1.0"]));
        for (let i = 0; i < RUNS && want(1); i++) {
            settle();
            a1.push(await timed(() => must(s.deployctl(["rollback", "v1.0.0", "--db", "keep"]), "rollback")));
            const rolledBack = fs.readFileSync(s.configFile, "utf8");
            deploy("v1.1.0");
            settle();
            const preview = await timed(() => must(s.pulumi(["preview"]), "pulumi preview"));
            const swap = await timed(() => rawSwap(rawName, rawPort, ref(rel["v1.0.0"])));
            b1.push(preview + swap);
            floor.push(swap);
            await rawSwap(rawName, rawPort, ref(rel["v1.1.0"]));
            fs.writeFileSync(s.configFile, rolledBack);
            settle();
            engine.push(await timed(() => must(s.pulumi(["up", "--yes", "--skip-preview"]), "pulumi up of the rollback's config")));
            deploy("v1.1.0");
        }
        if (want(1)) {
            results.push(compare("1. app-only rollback", "deployctl rollback --db keep", "pulumi preview + raw swap", a1, b1,
                { rawSwap: summarize(floor), engineUp: summarize(engine) }));
            console.log(`bench: case 1 done`);
        }

        // 4. No-op up vs bare preview, both with the pulumi CLI, as an operator runs them.
        const a4: number[] = [], b4: number[] = [];
        let commandsRun = 0;
        for (let i = 0; i < RUNS && want(4); i++) {
            a4.push(await timed(() => { commandsRun += changesIn(must(s.pulumi(["up", "--yes", "--skip-preview"]), "pulumi up").stdout); }));
            b4.push(await timed(() => must(s.pulumi(["preview"]), "pulumi preview")));
        }
        if (want(4)) {
            results.push(compare("4. no-op up vs preview", "pulumi up (no change)", "pulumi preview", a4, b4, { commandsRunByNoOpUps: commandsRun }));
            console.log(`bench: case 4 done`);
        }

        const timelines: Timeline[] = [];
        const svg = path.join(OUT, "availability.svg");
        if (want(5)) {
            // 5. Availability under a steady load, while deploying and rolling back.
            must(s.deployctl(["rollback", "v1.0.0"]), "rollback");
            timelines.push(
                await underLoad("deploy v1.1.0 over v1.0.0", s, ["deploy", "--version", "v1.1.0", "--image", rel["v1.1.0"].image,
                    "--digest", rel["v1.1.0"].digest, "--sha", rel["v1.1.0"].gitSha, "--schema", "2"]),
                await underLoad("rollback to v1.0.0 (app only)", s, ["rollback", "v1.0.0"]),
            );
            deploy("v1.1.0");
            // The same behind the proxy: the new container starts beside the old one, the proxy switches, the old one drains.
            const sp = await TestStack.create("benchproxy");
            try {
                const proxyPort = await freePort();
                const proxy = JSON.parse(fs.readFileSync(path.join(ROOT, ".local", "proxy.json"), "utf8"));
                sp.pulumiOk(["config", "set", "proxyPort", String(proxyPort)]);
                sp.pulumiOk(["config", "set", "proxyAdminPort", String(await freePort())]);
                sp.pulumiOk(["config", "set", "proxyImage", `${proxy.image}@${proxy.digest}`]);
                sp.pulumiOk(["config", "set", "drainSeconds", "3"]);
                must(sp.deploy("v1.0.0"), "deploy v1.0.0 behind the proxy");
                timelines.push(await underLoad("behind the proxy: deploy v1.1.0 over v1.0.0", sp, ["deploy", "--version", "v1.1.0", "--image", rel["v1.1.0"].image,
                    "--digest", rel["v1.1.0"].digest, "--sha", rel["v1.1.0"].gitSha, "--schema", "2", "--schema-min", "2", "--schema-max", "3"], proxyPort));
                timelines.push(await underLoad("behind the proxy: rollback to v1.0.0 (app only)", sp, ["rollback", "v1.0.0"], proxyPort));
            } finally {
                sp.cleanup();
            }
            await chart(timelines, svg);
            console.log(`bench: case 5 done`);
        }

        // 2, 3 and 7 at each database size: deploy with a verified backup, restore rollback, and the
        // app-only rollback again (size independence: against case 1 on the nearly empty database).
        const work = tmpDir("bench-dumps");
        const growth: { gib: number; deploy: number; keep: number; restore: number }[] = [];
        for (const gib of want(2) || want(3) || want(7) ? DB_GIBS : []) {
            const scale = Math.max(1, Math.round(gib * 1024 / 15.5));
            must(exec(pgbenchBin(), ["-i", "-q", "-s", String(scale), "-d", s.db], pg(s.db)), "pgbench -i");
            const size = Number(psql("SELECT pg_database_size(current_database())", s.db));
            const at = `${(size / 2 ** 30).toFixed(2)} GiB`;
            console.log(`bench: generated ${at} (pgbench scale ${scale})`);
            const a2: number[] = [], b2: number[] = [], dumpS: number[] = [], verifyS: number[] = [];
            for (let i = 0; i < RUNS && want(2); i++) {
                const target = i % 2 === 0 ? "v1.0.0" : "v1.1.0";
                let out = "";
                a2.push(await timed(() => { out = must(s.deploy(target), "deploy").stdout; }));
                const m = /\(dump ([\d.]+)s, verification ([\d.]+)s/.exec(out);
                if (m) { dumpS.push(Number(m[1])); verifyS.push(Number(m[2])); }
                const file = path.join(work, `raw-${i}.dump`);
                b2.push(await timed(async () => {
                    handVerifiedDump(s.db, file);
                    handMigration(s.db, ref(rel[target]));
                    await rawSwap(rawName, rawPort, ref(rel[target]));
                }));
                fs.rmSync(file, { force: true });
            }
            if (want(2) && RUNS % 2 === 1) deploy("v1.1.0");
            const c2 = !want(2) ? undefined : compare(`2. deploy with backup, ${at}`, "deployctl deploy (backup+verify)", "pg_dump + verify by restore + migrate + raw swap", a2, b2,
                { databaseBytes: size, backupDump: summarize(dumpS), backupVerification: summarize(verifyS) });
            if (c2) {
                results.push(c2);
                console.log(`bench: case 2 done at ${at}`);
            }

            const a7: number[] = [];
            for (let i = 0; i < RUNS && want(7); i++) {
                settle();
                a7.push(await timed(() => must(s.deployctl(["rollback", "v1.0.0", "--db", "keep"]), "rollback")));
                deploy("v1.1.0");
            }
            const c7 = !want(7) ? undefined : compare(`7. app-only rollback, ${at} vs nearly empty`, `deployctl rollback --db keep (${at})`, "the same, nearly empty database", a7, a1);
            if (c7) {
                results.push(c7);
                console.log(`bench: case 7 done at ${at}`);
            }

            const a3: number[] = [], b3: number[] = [];
            for (let i = 0; i < RUNS && want(3); i++) {
                const dump = (s.outputs().releaseRecord as { backup: { path: string } }).backup.path;
                a3.push(await timed(() => must(s.deployctl(["rollback", "v1.0.0", "--db", "restore", "--yes"]), "restore rollback")));
                deploy("v1.1.0");
                const safety = path.join(work, `safety-${i}.dump`);
                b3.push(await timed(async () => {
                    handVerifiedDump(s.db, safety);
                    must(exec("pg_restore", ["--clean", "--if-exists", "--no-owner", "-d", s.db, dump], pg(s.db)), "pg_restore");
                    await rawSwap(rawName, rawPort, ref(rel["v1.0.0"]));
                }));
                fs.rmSync(safety, { force: true });
            }
            const c3 = !want(3) ? undefined : compare(`3. restore rollback, ${at}`, "deployctl rollback --db restore", "safety dump + verify + pg_restore --clean + raw swap", a3, b3);
            if (c3) {
                results.push(c3);
                console.log(`bench: case 3 done at ${at}`);
            }
            growth.push({ gib: size / 2 ** 30, deploy: c2?.a_.median ?? NaN, keep: c7?.a_.median ?? NaN, restore: c3?.a_.median ?? NaN });
        }
        const growthSvg = path.join(OUT, "growth.svg");
        if (growth.length > 0) await growthChart([...(want(1) ? [{ gib: 0, deploy: NaN, keep: summarize(a1).median, restore: NaN }] : []), ...growth], growthSvg);

        const publicPort = s.port;
        let move: { sent: number; failed: number; gap: number } | undefined;
        if (want(6)) {
            // 6. Moving a stack that serves on its own port behind the proxy, keeping the public port number:
            // the documented two updates (README "Moving an existing stack to the proxy"), under a steady load on that port.
            const proxy = JSON.parse(fs.readFileSync(path.join(ROOT, ".local", "proxy.json"), "utf8"));
            move = await loadWhile(publicPort, async () => {
                s.pulumiOk(["config", "set", "proxyPort", String(await freePort())]);
                s.pulumiOk(["config", "set", "proxyAdminPort", String(await freePort())]);
                s.pulumiOk(["config", "set", "proxyImage", `${proxy.image}@${proxy.digest}`]);
                s.pulumiOk(["config", "set", "appPort", String(await freePort())]);
                s.pulumiOk(["config", "set", "drainSeconds", "3"]);
                must(s.deployctl(["rollback", "v1.0.0"]), "1st update: the proxy on a spare port");
                s.pulumiOk(["config", "set", "proxyPort", String(publicPort)]);
                must(s.deploy("v1.1.0"), "2nd update: the proxy on the public port");
            });
            const moved = (await health(publicPort))?.body.version;
            if (moved !== "v1.1.0") throw new Error(`after the move the public port answers ${moved ?? "nothing"}, not v1.1.0`);
            console.log(`bench: case 6 done`);
        }

        // 8. Several hosts: deploy and rollback on 1, 2 and 3 hosts, as ratios to one host.
        let hostPoints: HostsPoint[] = [];
        if (want(8)) hostPoints = await hostsCase(RUNS);

        const table = [
            "| case | tool | by hand | tool median (min–max) | by hand median (min–max) | ratio |",
            "|---|---|---|---|---|---|",
            ...results.map(r => `| ${r.name} | ${r.a} | ${r.b} | ${fmt(r.a_)} | ${fmt(r.b_)} | ${r.ratio.toFixed(2)}× |`),
        ];
        const c1 = results.find(r => r.name.startsWith("1."));
        if (c1) {
            const up = c1.extra!.engineUp as Summary;
            table.push("", `raw swap alone (the floor of case 1): ${fmt(c1.extra!.rawSwap as Summary)}`,
                `pulumi up alone of the settings file case 1's rollback ran with (the engine's share): ${fmt(up)}, ${(up.median / c1.b_.median).toFixed(2)}× the by-hand side; ` +
                `deployctl's own share ${(c1.a_.median - up.median).toFixed(2)}s`);
        }
        for (const c2 of results.filter(r => r.name.startsWith("2.")).map(r => r.extra!)) {
            table.push(`backup of ${(Number(c2.databaseBytes) / 2 ** 30).toFixed(2)} GiB: dump ${fmt(c2.backupDump as Summary)}, verification by restore, side by side with the dump, ${fmt(c2.backupVerification as Summary)}`);
        }
        const c4 = results.find(r => r.name.startsWith("4."));
        if (c4) table.push(`no-op ups ran ${c4.extra!.commandsRunByNoOpUps} commands in ${RUNS} runs`);
        if (move) {
            table.push(`moving the public port ${publicPort} behind the proxy (two updates, once): ${move.sent} requests, ${move.failed} failed, ` +
                `longest gap without a successful answer ${Math.round(move.gap)} ms`);
        }
        if (hostPoints.length > 0) {
            const one = hostPoints[0];
            table.push("", "| hosts | deploy median (min–max) | ratio to 1 host | rollback --db keep median (min–max) | ratio to 1 host |", "|---|---|---|---|---|");
            for (const p of hostPoints) {
                table.push(`| ${p.label} | ${fmt(p.deploy)} | ${(p.deploy.median / one.deploy.median).toFixed(2)}× | ${fmt(p.rollback)} | ${(p.rollback.median / one.rollback.median).toFixed(2)}× |`);
            }
        }
        for (const tl of timelines) {
            table.push(`availability, ${tl.label}: ${tl.sent} requests, ${tl.failed} failed, longest gap without a successful answer ${Math.round(tl.gap)} ms, ` +
                `p99 latency ${tl.p99Switch.toFixed(1)} ms during the switch against ${tl.p99Steady.toFixed(1)} ms steady`);
        }
        const json = path.join(OUT, "results.json");
        fs.writeFileSync(json, JSON.stringify({ date: new Date().toISOString(), runs: RUNS, dbGiB: DB_GIBS, results, growth, hosts: hostPoints,
            portMove: move ? { sent: move.sent, failed: move.failed, longestGapMs: Math.round(move.gap) } : undefined,
            availability: timelines.map(t => ({
                label: t.label, sent: t.sent, failed: t.failed, longestGapMs: Math.round(t.gap), p99SteadyMs: t.p99Steady, p99SwitchMs: t.p99Switch, phases: t.phases,
            })) }, null, 2));
        console.log("\n" + table.join("\n"));
        console.log(`\nresults: ${json}\npictures: ${svg}, ${growthSvg}`);
    } finally {
        exec("docker", ["rm", "-f", rawName]);
        const backups = s.backupDir;
        s.cleanup();
        fs.rmSync(backups, { recursive: true, force: true }); // the bench's own dumps, in its own temporary directory
    }
}

main().catch(err => { console.error(`bench: ${err.message}`); process.exitCode = 1; });
