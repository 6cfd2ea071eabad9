// A bounded steady load for switch tests: loopback, or a test host's namespace (scripts/test-hosts.sh),
// bounded in count and time.
import * as http from "http";

export interface Answer { at: number; status: number | "failed"; version?: string; error?: string }

/**
 * Steady load: `conns` closed loops of GET / on keep-alive connections, each pausing `pauseMs`
 * between requests, until stopped; bounded at `max` requests and `seconds`. `host` is 127.0.0.1 or
 * the address of a test host this machine's own namespaces hold.
 */
export function steadyLoad(port: number, conns = 4, max = 200000, seconds = 300, pauseMs = 5, host = "127.0.0.1") {
    const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
    const answers: Answer[] = [];
    let stopped = false;
    const deadline = Date.now() + seconds * 1000;
    const one = () => new Promise<void>(resolve => {
        const at = Date.now();
        const req = http.get({ host, port, path: "/", agent, timeout: 5000 }, res => {
            let body = "";
            res.on("data", c => { body += c; });
            res.on("end", () => {
                let version: string | undefined;
                try { version = JSON.parse(body).version; } catch { version = undefined; }
                answers.push({ at, status: res.statusCode ?? 0, version });
                resolve();
            });
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", (e: Error) => { answers.push({ at, status: "failed", error: e.message }); resolve(); });
    });
    const loop = async () => {
        while (!stopped && answers.length < max && Date.now() < deadline) {
            await one();
            await new Promise(r => setTimeout(r, pauseMs));
        }
    };
    const loops = Array.from({ length: conns }, loop);
    return {
        answers,
        async stop(): Promise<Answer[]> {
            stopped = true;
            await Promise.all(loops);
            agent.destroy();
            return answers;
        },
    };
}
