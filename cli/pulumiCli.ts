// The Pulumi CLI calls deployctl makes, run directly. Each method runs the same
// command line, with the same environment, as the Automation API's method of the
// same name (@pulumi/pulumi/automation, LocalWorkspace and Stack), and returns the
// same shape (test/conformance/cli.test.ts); a failure's text holds its code,
// stdout and stderr, so causeOf finds the same cause in it. Loading the
// Automation API costs Node about half a second at every deployctl start (its
// Stack module loads the whole runtime, for inline programs deployctl never uses),
// and its PulumiCommand.get runs `pulumi version` first, to refuse a CLI older
// than v3.2.0 (its minimum). Neither is needed here: deployctl runs the `pulumi`
// on PATH, which toolEnv makes the project's own pinned CLI unless a normal
// install is there.
import { spawn } from "child_process";

/** A config value, as `pulumi config --json` shows it. */
export interface ConfigValue { value: string; secret?: boolean }
/** Config keys (`project:key`) to values. */
export type ConfigMap = Record<string, ConfigValue>;
/** A stack output and whether it is secret. */
export interface OutputValue { value: any; secret: boolean } // eslint-disable-line @typescript-eslint/no-explicit-any
export type OutputMap = Record<string, OutputValue>;

/** The result of one CLI call. */
export interface CliResult { code: number; stdout: string; stderr: string }

/** A CLI call that exited non-zero; its message is its code, stdout and stderr, as the Automation API's CommandResult prints them. */
export class CliError extends Error {
    constructor(readonly result: CliResult) {
        super(`code: ${result.code}\n stdout: ${result.stdout}\n stderr: ${result.stderr}\n err?: \n`);
    }
}

/** The pulumi CLI in a project directory. */
export class PulumiCli {
    constructor(readonly command: string, readonly workDir: string) {}

    /**
     * The environment of every call: this process's plus PULUMI_AUTOMATION_API=true, as the
     * Automation API's PulumiCommand.run sets it (it also puts the CLI's own directory first
     * on PATH, but only for a CLI given by absolute path; deployctl runs `pulumi` by name).
     */
    env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
        return { ...process.env, ...extra, PULUMI_AUTOMATION_API: "true" };
    }

    /** Runs a command with --non-interactive; `onOutput` gets stdout as it comes. */
    run(args: string[], onOutput?: (text: string) => void, extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
        const argv = args.includes("--non-interactive") ? args : [...args, "--non-interactive"];
        return new Promise((resolve, reject) => {
            const child = spawn(this.command, argv, { cwd: this.workDir, env: this.env(extraEnv), stdio: ["ignore", "pipe", "pipe"] });
            child.stdout.setEncoding("utf8");
            child.stderr.setEncoding("utf8");
            let stdout = "", stderr = "";
            child.stdout.on("data", (t: string) => { stdout += t; onOutput?.(t); });
            child.stderr.on("data", (t: string) => { stderr += t; });
            child.on("error", reject);
            child.on("close", code => resolve({ code: code ?? 1, stdout, stderr }));
        });
    }

    /** Runs a command that must succeed; a non-zero exit is a CliError. */
    async ok(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
        const r = await this.run(args, undefined, extraEnv);
        if (r.code !== 0) throw new CliError(r);
        return r;
    }

    /** `pulumi stack ls --json`: the project's stacks (LocalWorkspace.listStacks). */
    async listStacks(): Promise<{ name: string }[]> {
        return JSON.parse((await this.ok(["stack", "ls", "--json"])).stdout) as { name: string }[];
    }
}

/** What the Automation API's Stack methods (preview, up, history) add to the environment; its workspace methods (config, outputs) do not. */
export const STACK_ENV: NodeJS.ProcessEnv = { PULUMI_DEBUG_COMMANDS: "true" };

/** What a preview is asked for (the subset of the Automation API's PreviewOptions deployctl passes). */
export interface PreviewOptions { message?: string; color?: string; diff?: boolean; onOutput?: (text: string) => void; args?: string[] }

/**
 * A stack of the project. Every call passes --stack, so the user's selected
 * stack is never changed (deployctl never selects one).
 */
export class Stack {
    constructor(readonly name: string, readonly cli: PulumiCli) {}

    /** `pulumi config --show-secrets --json` (LocalWorkspace.getAllConfig). */
    async getAllConfig(): Promise<ConfigMap> {
        return JSON.parse((await this.cli.ok(["config", "--show-secrets", "--json", "--stack", this.name])).stdout) as ConfigMap;
    }

    /** `pulumi config get KEY --json` (LocalWorkspace.getConfig). */
    async getConfig(key: string): Promise<ConfigValue> {
        return JSON.parse((await this.cli.ok(["config", "get", key, "--json", "--stack", this.name])).stdout) as ConfigValue;
    }

    /** `pulumi config set-all` with --secret or --plaintext per key (LocalWorkspace.setAllConfig). */
    async setAllConfig(config: ConfigMap): Promise<void> {
        const args = ["config", "set-all", "--stack", this.name];
        for (const [key, v] of Object.entries(config)) args.push(v.secret ? "--secret" : "--plaintext", `${key}=${v.value}`);
        await this.cli.ok(args);
    }

    /** `pulumi config rm-all KEYS` (LocalWorkspace.removeAllConfig). */
    async removeAllConfig(keys: string[]): Promise<void> {
        await this.cli.ok(["config", "rm-all", "--stack", this.name, ...keys]);
    }

    /**
     * The stack's outputs (LocalWorkspace.stackOutputs): the masked `pulumi stack output
     * --json` for which of them are secret, then `--json --show-secrets`, one after the
     * other as the Automation API runs them (its source defers running them side by side
     * to pulumi/pulumi#6050).
     */
    async outputs(): Promise<OutputMap> {
        const masked = await this.cli.ok(["stack", "output", "--json", "--stack", this.name]);
        const plain = await this.cli.ok(["stack", "output", "--json", "--show-secrets", "--stack", this.name]);
        const m = JSON.parse(masked.stdout) as Record<string, unknown>;
        return Object.fromEntries(Object.entries(JSON.parse(plain.stdout) as Record<string, unknown>)
            .map(([k, value]) => [k, { value, secret: m[k] === "[secret]" }]));
    }

    /**
     * `pulumi stack history --json [--show-secrets]`, times as Dates (Stack.history). Without
     * secrets the CLI does not decrypt (about 0.2 s less); secret values then read "[secret]".
     */
    async history(showSecrets = true): Promise<unknown[]> {
        const r = await this.cli.ok(["stack", "history", "--json", ...(showSecrets ? ["--show-secrets"] : []), "--stack", this.name], STACK_ENV);
        return JSON.parse(r.stdout, (key, value) => key === "startTime" || key === "endTime" ? new Date(value as string) : value) as unknown[];
    }

    /** `pulumi preview`, streaming the engine's output (Stack.preview); a failure is a CliError. */
    async preview(opts: PreviewOptions = {}): Promise<void> {
        const args = ["preview"];
        if (opts.message) args.push("--message", opts.message);
        if (opts.diff) args.push("--diff");
        if (opts.color) args.push("--color", opts.color);
        args.push("--exec-kind", "auto.local", ...(opts.args ?? []), "--stack", this.name);
        const r = await this.cli.run(args, opts.onOutput, STACK_ENV);
        if (r.code !== 0) throw new CliError(r);
    }
}
