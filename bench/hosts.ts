// Bench case 8: deploy and rollback wall time on 1, 2 and 3 hosts (the local engine, a test host
// over ssh, a test host over its unix socket; scripts/test-hosts.sh), each behind its own proxy,
// as ratios to one host; with 3 hosts both one host per batch and all hosts in one batch.
import * as fs from "fs";
import * as path from "path";
import { summarize, Summary } from "./stats";
import { must, timed } from "./timing";
import { exec, freePort, ROOT } from "../test/support/infra";
import { TestStack } from "../test/support/stack";

const HOSTS = path.join(ROOT, "scripts", "test-hosts.sh");

export interface HostsPoint { label: string; hosts: number; batchSize: string; deploy: Summary; rollback: Summary }


/** One stack on the first `n` hosts: warmed up, then `runs` timed rollbacks and deploys, alternating. */
async function measure(n: number, batchSize: string, runs: number): Promise<HostsPoint> {
    const h = (i: number) => exec("bash", [HOSTS, "env", String(i)]).stdout.trim().split(" ");
    const [, , ssh2, addr2] = h(2);
    const [, unix3, , addr3] = h(3);
    const all = [
        { name: "a", endpoint: process.env.DOCKER_HOST || "unix:///var/run/docker.sock", address: "127.0.0.1" },
        { name: "b", endpoint: ssh2, address: addr2 },
        { name: "c", endpoint: unix3, address: addr3 },
    ].slice(0, n);
    const s = await TestStack.create(`benchhosts${n}`);
    s.env.PATH = `${path.join(ROOT, ".local", "hosts", "bin")}:${s.env.PATH}`;
    try {
        const proxy = JSON.parse(fs.readFileSync(path.join(ROOT, ".local", "proxy.json"), "utf8"));
        s.pulumiOk(["config", "set", "proxyPort", String(await freePort())]);
        s.pulumiOk(["config", "set", "proxyAdminPort", String(await freePort())]);
        s.pulumiOk(["config", "set", "proxyImage", `${proxy.image}@${proxy.digest}`]);
        s.pulumiOk(["config", "set", "drainSeconds", "1"]);
        s.pulumiOk(["config", "set", "batchSize", batchSize]);
        s.pulumiOk(["config", "set", "--path", "appEnv.HOST", "0.0.0.0"]);
        all.forEach((x, i) => {
            for (const [k, v] of Object.entries(x)) s.pulumiOk(["config", "set", "--path", `hosts[${i}].${k}`, v]);
        });
        must(s.deploy("v1.0.0"), "deploy v1.0.0");
        must(s.deploy("v1.1.0"), "deploy v1.1.0");
        const deploy: number[] = [], rollback: number[] = [];
        for (let i = 0; i < runs; i++) {
            rollback.push(await timed(() => must(s.deployctl(["rollback", "v1.0.0", "--db", "keep"]), "rollback")));
            deploy.push(await timed(() => must(s.deploy("v1.1.0"), "deploy v1.1.0")));
        }
        return { label: `${n} host${n > 1 ? "s" : ""}, batchSize ${batchSize}`, hosts: n, batchSize, deploy: summarize(deploy), rollback: summarize(rollback) };
    } finally {
        s.cleanup();
    }
}

/** Case 8: starts test hosts 2 and 3, measures, removes them. */
export async function hostsCase(runs: number): Promise<HostsPoint[]> {
    must(exec("bash", [HOSTS, "up", "2", "3"]), "scripts/test-hosts.sh up 2 3");
    try {
        const points: HostsPoint[] = [];
        for (const [n, batch] of [[1, "1"], [2, "1"], [3, "1"], [3, "100%"]] as const) {
            points.push(await measure(n, batch, runs));
            console.log(`bench: case 8, ${points[points.length - 1].label} done`);
        }
        return points;
    } finally {
        exec("bash", [HOSTS, "down"]);
    }
}
