// What a failed update's last line says: the step that failed and the tool's own words.

/** The steps whose scripts end a failure with "<step> failed: <reason>". */
const STEPS = "backup|migrations|container|smoke|restore|artifact";
const STEP_FAILED_RE = new RegExp(`\\b((?:${STEPS}) failed: .*)$`);

/** The step a failure line names: the word before " failed:" of a step's own message (or maintenance's), else "engine". */
export function failedStep(message: string): string {
    const m = new RegExp(`\\b(${STEPS}|maintenance) failed: `).exec(message.replace(/^.*?failed: /, ""));
    return m ? m[1] : "engine";
}

/**
 * The cause of a failed update, from the engine's output: the failing step's
 * own line when a step failed, else the engine's first error line.
 */
export function causeOf(text: string): string {
    // The labels of a failed CLI call's text ("code: 1\n stdout: ...\n stderr: error: ...") are not part of a line.
    // eslint-disable-next-line no-control-regex
    const lines = text.split("\n").map(l => l.replace(/\u001b\[[0-9;]*m/g, "").trim().replace(/^(stdout|stderr): /, ""));
    for (let i = lines.length - 1; i >= 0; i--) {
        const m = STEP_FAILED_RE.exec(lines[i]);
        if (m) return m[1].replace(/\\n.*$/, "").replace(/["\\]+$/, "");
    }
    const err = lines.find(l => /^error:/.test(l) && !/^error: update failed$/.test(l));
    if (err) return err.replace(/^error:\s*/, "");
    return lines.find(l => /failed|error/i.test(l)) ?? "the update failed";
}
