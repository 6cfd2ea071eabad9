// Colour only on a terminal: the engine's progress (its `color` option) and
// deployctl's red failure line. Piped or redirected output stays plain text.

/**
 * Whether output to a stream gets ANSI colour:
 * - FORCE_COLOR set to a non-empty value other than "0" forces it on;
 * - else NO_COLOR set to a non-empty value turns it off (no-color.org);
 * - else it is on when the stream is a TTY.
 */
export function colourOn(isTTY: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
    const force = env.FORCE_COLOR;
    if (force !== undefined && force !== "" && force !== "0") return true;
    const no = env.NO_COLOR;
    if (no !== undefined && no !== "") return false;
    return isTTY === true;
}

/** The engine's `color` option for stack.up and stack.preview, which stream to stdout. */
export function engineColor(): "always" | "never" {
    return colourOn(process.stdout.isTTY, process.env) ? "always" : "never";
}

/** The text in red (ANSI 31) when `on`, else as it is. */
export function red(text: string, on: boolean): string {
    return on ? `\u001b[31m${text}\u001b[0m` : text;
}
