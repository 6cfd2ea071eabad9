// The stack outputs recorded with each update. A self-managed (file://)
// backend keeps, next to every history entry, a copy of the checkpoint the
// update left (<stack>-<time>.history.json and .checkpoint.json in
// .pulumi/history), so the outputs of past updates can be read back; that is
// where the live schema after each update comes from. Other backends are not
// read here (their history rows show the live schema only for the newest update).
import * as fs from "fs";
import * as path from "path";
import { fileBackendDir } from "./workspace";

/** The `schema` output of an update: the target, the range and what the database had after it. */
export interface SchemaOutput {
    target: number;
    range: string;
    live: number;
    dirty: boolean;
}

/** The `schema` output per successful update's start time (unix seconds), for a file:// backend; empty for others. */
export function schemaOutputsByStart(backendUrl: string | undefined, project: string, stack: string): Map<number, SchemaOutput> {
    const out = new Map<number, SchemaOutput>();
    for (const [t, o] of outputsByStart(backendUrl, project, stack)) {
        const schema = o.schema as SchemaOutput | undefined;
        if (schema && typeof schema.live === "number") out.set(t, schema);
    }
    return out;
}

/** The stack outputs each successful update left, per its start time (unix seconds), for a file:// backend; empty for others. */
export function outputsByStart(backendUrl: string | undefined, project: string, stack: string): Map<number, Record<string, unknown>> {
    const out = new Map<number, Record<string, unknown>>();
    const dir = fileBackendDir(backendUrl);
    if (dir === undefined) return out;
    const root = path.join(dir, ".pulumi", "history");
    for (const dir of [path.join(root, project, stack), path.join(root, stack)]) {
        if (!fs.existsSync(dir)) continue;
        for (const f of fs.readdirSync(dir).filter(n => n.endsWith(".history.json"))) {
            try {
                const info = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as { startTime?: number; result?: string };
                const cp = path.join(dir, f.replace(/\.history\.json$/, ".checkpoint.json"));
                if (info.result !== "succeeded" || info.startTime === undefined || !fs.existsSync(cp)) continue;
                const outputs = stackOutputs(JSON.parse(fs.readFileSync(cp, "utf8")));
                if (outputs) out.set(info.startTime, outputs);
            } catch {
                // An unreadable entry only leaves its row without recorded outputs.
            }
        }
    }
    return out;
}

/** The outputs of the stack resource in a checkpoint file's content. */
export function stackOutputs(checkpointFile: unknown): Record<string, unknown> | undefined {
    const resources = (checkpointFile as { checkpoint?: { latest?: { resources?: { type: string; outputs?: Record<string, unknown> }[] } } })
        ?.checkpoint?.latest?.resources ?? [];
    return resources.find(r => r.type === "pulumi:pulumi:Stack")?.outputs;
}

/** "3" or "3 (dirty)". */
export function showLive(v: { live?: number; version?: number; dirty: boolean }): string {
    return `${v.live ?? v.version}${v.dirty ? " (dirty)" : ""}`;
}
