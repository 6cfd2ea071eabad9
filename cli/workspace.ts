// The Automation API workspace deployctl drives: the project root, the
// project's toolchain on PATH, the state backend and the secrets passphrase.
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** The project root (where Pulumi.yaml is). */
export const ROOT = path.resolve(__dirname, "..", "..");

/**
 * Environment defaults, the same as scripts/env.sh: the project's pulumi on
 * PATH, a file:// backend under .state/, a generated passphrase file, no
 * plugin downloads. Values already set in the environment win.
 */
export function toolEnv(base: NodeJS.ProcessEnv = process.env, root = ROOT): Record<string, string> {
    const env: Record<string, string> = {
        PATH: `${path.join(root, ".tools", "bin")}${path.delimiter}${base.PATH ?? ""}`,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_NODEJS_TRANSPILE_ONLY: base.PULUMI_NODEJS_TRANSPILE_ONLY ?? "true",
        PULUMI_BACKEND_URL: base.PULUMI_BACKEND_URL ?? `file://${path.join(root, ".state")}`,
    };
    if (!base.PULUMI_CONFIG_PASSPHRASE && !base.PULUMI_CONFIG_PASSPHRASE_FILE) {
        env.PULUMI_CONFIG_PASSPHRASE_FILE = path.join(root, ".local", "passphrase");
    }
    return env;
}

/** Applies toolEnv to this process (the Automation API spawns pulumi with it). */
export function useToolEnv(): void {
    const env = toolEnv();
    Object.assign(process.env, env);
    if (env.PULUMI_BACKEND_URL.startsWith("file://")) {
        fs.mkdirSync(env.PULUMI_BACKEND_URL.slice("file://".length), { recursive: true });
    }
    const pf = env.PULUMI_CONFIG_PASSPHRASE_FILE;
    if (pf && !fs.existsSync(pf)) {
        fs.mkdirSync(path.dirname(pf), { recursive: true });
        fs.writeFileSync(pf, randomBytes(24).toString("base64") + "\n", { mode: 0o600 });
    }
}

/** Opens an existing stack of the project. */
export async function openStack(stackName: string, workDir = ROOT): Promise<Stack> {
    useToolEnv();
    return LocalWorkspace.selectStack({ stackName, workDir });
}

/** Opens a stack, creating it when it does not exist. */
export async function openOrCreateStack(stackName: string, workDir = ROOT): Promise<Stack> {
    useToolEnv();
    return LocalWorkspace.createOrSelectStack({ stackName, workDir });
}

/** Path of a stack's settings file (its config), e.g. Pulumi.prod.yaml. */
export function stackConfigFile(stackName: string, workDir = ROOT): string {
    return path.join(workDir, `Pulumi.${stackName}.yaml`);
}
