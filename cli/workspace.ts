// Where deployctl runs pulumi: the project root, the project's toolchain on
// PATH, the state backend and the secrets passphrase.
import { PROJECT } from "../components/config";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PulumiCli, Stack } from "./pulumiCli";

/** The project root (where Pulumi.yaml is). */
export const ROOT = path.resolve(__dirname, "..", "..");

/** Whether a `pulumi` other than the project's is on PATH (a normal install). */
export function userPulumiOnPath(base: NodeJS.ProcessEnv, root: string): boolean {
    const own = path.join(root, ".tools", "bin");
    return (base.PATH ?? "").split(path.delimiter)
        .filter(d => d !== "" && path.resolve(d) !== own)
        .some(d => fs.existsSync(path.join(d, "pulumi")));
}

/**
 * The environment deployctl runs pulumi with. Values already set win.
 * - With a normal Pulumi install on PATH (and DEPLOYCTL_TOOLCHAIN unset or
 *   `path`), that install runs with its own plugins and the user's settings
 *   (plugin acquisition included) as they are.
 * - Otherwise (or with DEPLOYCTL_TOOLCHAIN=project) the project-built CLI in
 *   .tools/bin runs with the stand-in plugins from its own PULUMI_HOME under
 *   .tools, never the user's ~/.pulumi, and never downloads a plugin.
 * Either way: a file:// backend under .state/ and a generated passphrase
 * file unless the environment names others.
 */
export function toolEnv(base: NodeJS.ProcessEnv = process.env, root = ROOT): Record<string, string> {
    const choice = base.DEPLOYCTL_TOOLCHAIN ?? "";
    const project = choice === "project" || (choice !== "path" && !userPulumiOnPath(base, root));
    const env: Record<string, string> = {
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_NODEJS_TRANSPILE_ONLY: base.PULUMI_NODEJS_TRANSPILE_ONLY ?? "true",
        PULUMI_BACKEND_URL: base.PULUMI_BACKEND_URL ?? `file://${path.join(root, ".state")}`,
    };
    if (project) {
        env.PATH = `${path.join(root, ".tools", "bin")}${path.delimiter}${base.PATH ?? ""}`;
        env.PULUMI_HOME = path.join(root, ".tools", "pulumi-home");
        env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION = "true";
    }
    if (!base.PULUMI_CONFIG_PASSPHRASE && !base.PULUMI_CONFIG_PASSPHRASE_FILE) {
        env.PULUMI_CONFIG_PASSPHRASE_FILE = path.join(root, ".local", "passphrase");
    }
    return env;
}

/** The directory of a file:// backend URL (by default this process's backend); undefined for any other backend. */
export function fileBackendDir(url = process.env.PULUMI_BACKEND_URL): string | undefined {
    return url?.startsWith("file://") ? url.slice("file://".length) : undefined;
}

/** Applies toolEnv to this process (the Automation API spawns pulumi with it). */
export function useToolEnv(): void {
    const env = toolEnv();
    Object.assign(process.env, env);
    const dir = fileBackendDir(env.PULUMI_BACKEND_URL);
    if (dir !== undefined) fs.mkdirSync(dir, { recursive: true });
    const pf = env.PULUMI_CONFIG_PASSPHRASE_FILE;
    if (pf && !fs.existsSync(pf)) {
        fs.mkdirSync(path.dirname(pf), { recursive: true });
        fs.writeFileSync(pf, randomBytes(24).toString("base64") + "\n", { mode: 0o600 });
    }
}

/** The pulumi CLI at a project directory, with the tool environment applied. */
function cliAt(workDir: string): PulumiCli {
    useToolEnv();
    return new PulumiCli("pulumi", workDir);
}

/**
 * Opens a stack of the project without selecting it: every call passes
 * `--stack`, so the user's selected stack is never changed. The stack is
 * not checked to exist: openExistingStack does that.
 */
export function openStack(stackName: string, workDir = ROOT): Stack {
    return new Stack(stackName, cliAt(workDir));
}

/** A stack name that the backend does not hold. */
export class StackMissingError extends Error {}

/** The stacks the backend holds for this project. */
export async function stackNames(workDir = ROOT): Promise<string[]> {
    return (await cliAt(workDir).listStacks()).map(s => s.name).sort();
}

/**
 * Opens an existing stack; a name the backend does not hold is a
 * StackMissingError naming it and the stacks there are.
 */
export async function openExistingStack(stackName: string, workDir = ROOT): Promise<Stack> {
    // A file:// backend's stack file proves the stack exists without a `pulumi stack ls`.
    useToolEnv();
    if (stackFileExists(stackName)) return openStack(stackName, workDir);
    const names = await stackNames(workDir);
    if (!names.includes(stackName)) {
        throw new StackMissingError(`stack ${JSON.stringify(stackName)} does not exist in ${process.env.PULUMI_BACKEND_URL ?? "the backend"}; stacks there: ${names.length ? names.join(", ") : "none"}`);
    }
    return openStack(stackName, workDir);
}

/**
 * Whether a file:// backend holds the stack's checkpoint under this project (plain or
 * gzipped). A backend in the legacy layout, shared by every project, is not read here:
 * the caller asks `pulumi stack ls` instead.
 */
export function stackFileExists(stackName: string, project = PROJECT): boolean {
    const dir = fileBackendDir();
    if (dir === undefined || !/^[A-Za-z0-9_.-]+$/.test(stackName)) return false;
    const file = path.join(dir, ".pulumi", "stacks", project, stackName);
    return fs.existsSync(`${file}.json`) || fs.existsSync(`${file}.json.gz`);
}

/** Path of a stack's settings file (its config), e.g. Pulumi.prod.yaml. */
export function stackConfigFile(stackName: string, workDir = ROOT): string {
    return path.join(workDir, `Pulumi.${stackName}.yaml`);
}

/** Whether a file:// backend holds a lock on the stack (an update in progress, or one that was killed). */
export function stackLocked(stackName: string, project = PROJECT): boolean {
    const dir = fileBackendDir();
    if (dir === undefined) return false;
    const base = path.join(dir, ".pulumi", "locks");
    const dirs = [path.join(base, "organization", project, stackName), path.join(base, stackName)];
    return dirs.some(d => fs.existsSync(d) && fs.readdirSync(d).some(f => f.endsWith(".json")));
}
