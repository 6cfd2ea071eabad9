import * as fs from "fs";
import * as path from "path";

// Shell script helpers. Every value that reaches a script is passed through
// the command's environment and referenced as "$NAME"; scripts themselves are
// constants, so no config value is ever interpolated into shell code.

/** Joins script lines under bash's strict mode. */
export function bashScript(...lines: string[]): string {
    return ["set -euo pipefail", ...lines].join("\n") + "\n";
}

/** The interpreter every command resource uses. */
export const BASH = ["/bin/bash", "-c"];

/** Parses the last line of a command's stdout as JSON (the scripts' result line). */
export function lastJsonLine<T>(stdout: string): T {
    const lines = stdout.trim().split("\n");
    for (let i = lines.length - 1; i >= 0; i--) {
        const line = lines[i].trim();
        if (line.startsWith("{")) return JSON.parse(line) as T;
    }
    throw new Error(`no JSON result line in command output: ${JSON.stringify(stdout.slice(-200))}`);
}

/** Adds DOCKER_HOST to a command's environment when one is configured. */
export function withDockerHost<T>(env: Record<string, T>, dockerHost: string): Record<string, T | string> {
    return dockerHost ? { ...env, DOCKER_HOST: dockerHost } : env;
}

/**
 * A script from components/scripts/, under bash's strict mode, after the
 * files it uses (`libs`, from the same directory). The files are real shell,
 * checked by shellcheck in lint; values reach them only through the
 * environment.
 */
export function scriptFile(name: string, ...libs: string[]): string {
    return bashScript(...[...libs, name].map(readScript));
}

function readScript(name: string): string {
    const candidates = [path.join(__dirname, "scripts", name), path.join(__dirname, "..", "..", "components", "scripts", name)];
    const file = candidates.find(f => fs.existsSync(f));
    if (!file) throw new Error(`script ${name} not found in components/scripts`);
    return fs.readFileSync(file, "utf8");
}

/** The backup step's script, with the hand-off helpers it shares with the migration step (also run by deployctl, without @pulumi). */
export function backupScriptText(): string {
    return scriptFile("backup.sh", "ahead-lib.sh");
}
