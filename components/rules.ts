// The value rules shared by the single-service settings (config.ts) and the bundle (services.ts):
// the patterns a value must match, and how a bad value is shown in an error message.

export const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
// A Docker repository: optional registry host[:port], then lower-case path components.
export const REPO_RE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const HTTP_PATH_RE = /^\/[A-Za-z0-9._~/-]*$/;
// A smoke endpoint: an absolute path with an optional query, no spaces or shell-special characters.
export const ENDPOINT_PATH_RE = /^\/[A-Za-z0-9._~/%-]*(?:\?[A-Za-z0-9._~%=&-]*)?$/;
// A host name or an IP address (v6 without brackets): dbHost, appHost, a host's address.
export const HOST_RE = /^[A-Za-z0-9](?:[A-Za-z0-9.:-]*[A-Za-z0-9])?$/;
// A service name: a DNS label.
export const DNS_LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Whether v is a full image reference pinned by digest: repository@sha256:<64 hex>. */
export function isImageRef(v: string): boolean {
    const at = v.indexOf("@");
    return at >= 0 && REPO_RE.test(v.slice(0, at)) && DIGEST_RE.test(v.slice(at + 1));
}

/** Shows a bad value in an error message: quoted, with control characters escaped, cut short. */
export function show(value: unknown): string {
    const s = JSON.stringify(typeof value === "string" ? value : String(value));
    return s.length > 90 ? s.slice(0, 87) + '..."' : s;
}
