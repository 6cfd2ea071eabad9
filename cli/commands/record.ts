// deployctl record: writes the playbook's release record of the running release.
import { Command } from "commander";
import * as fs from "fs";
import * as path from "path";
import { checkReleaseValue } from "../../components/config";
import { ReleaseRecord, renderReleaseMarkdown } from "../../components/record";
import { flag, historyWithLive, openStack, RefusedError, requireStack, stackOption, UsageError } from "../common";
import { ROOT } from "../workspace";

interface RecordOptions {
    stack?: string; out?: string;
}

export function registerRecord(program: Command): void {
    program.command("record")
        .summary("write releases/<vX.Y.Z>.md, the release record")
        .usage("<vX.Y.Z> --stack S [--out DIR]")
        .description("Writes releases/<vX.Y.Z>.md, the playbook's release record, from the stack's history. The release must be the one running.")
        // Optional here so that a missing version gets this command's own message (checked in cmdRecord).
        .argument("[vX.Y.Z]", "the release running on the stack")
        .addOption(stackOption())
        .addOption(flag("--out <DIR>", "the directory to write to (default: releases/ in the project)"))
        .addHelpText("after", "\nexample: deployctl record v1.4.0 --stack prod")
        .action((version: string | undefined, opts: RecordOptions) => cmdRecord(version, opts));
}

async function cmdRecord(version: string | undefined, v: RecordOptions): Promise<void> {
    if (!version || checkReleaseValue("version", version)) throw new UsageError("record needs a release version like v2.1.0");
    const stack = await openStack(requireStack(v));
    const outputs = await stack.outputs();
    const record = outputs.releaseRecord?.value as ReleaseRecord | undefined;
    if (!record || record.version !== version) {
        throw new RefusedError(`${version} is not the release running on ${stack.name} (${record?.version ?? "none"}); deploy or roll back to it first`);
    }
    const rows = (await historyWithLive(stack)).filter(r => r.version === version && r.operation === "update");
    const dir = v.out ?? path.join(ROOT, "releases");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${version}.md`);
    fs.writeFileSync(file, renderReleaseMarkdown(record, rows.map(r => ({ kind: r.kind, time: r.time, result: r.result, liveSchema: r.liveSchema }))));
    console.log(file);
}
