// Reading an image's registry over its HTTP API, anonymously and without a pull:
// whether it holds a manifest (releases, cut), a tag's digest (cut), and the manifest and
// config blob (provenance).
import { run } from "./live";

/** The manifest media types asked for: OCI and Docker, single manifests and indexes. */
export const MANIFEST_ACCEPT = ["application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"].join(",");

/** The URL of a registry path of an image's repository (http for a registry on loopback, else https); undefined for a ref that is not repo@digest. */
export function registryUrl(ref: string, what: string): string | undefined {
    const slash = ref.indexOf("/");
    const at = ref.indexOf("@");
    if (slash < 0 || at < slash) return undefined;
    const host = ref.slice(0, slash);
    const scheme = /^(127\.0\.0\.1|localhost|\[::1\])(:|$)/.test(host) ? "http" : "https";
    return `${scheme}://${host}/v2/${ref.slice(slash + 1, at)}/${what}`;
}

/**
 * The registry's answer to a HEAD on a manifest (by digest or by tag) of a repository:
 * "200", "404", another HTTP status, or curl's error.
 */
export async function manifestStatus(repo: string, reference: string, timeoutSeconds: number): Promise<string> {
    const url = registryUrl(`${repo}@${reference}`, `manifests/${reference}`);
    if (!url) return `${repo} is not registry/repository`;
    const r = await run("curl", ["-sS", "-o", "/dev/null", "-I", "--max-time", String(timeoutSeconds), "-w", "%{http_code}", "-H", `Accept: ${MANIFEST_ACCEPT}`, url], process.env);
    return r.code === 0 ? r.out.trim() : r.out.split("\n").pop() ?? "no answer";
}

/** Whether a registry holds an image's manifest, asked with HEAD. */
export async function inRegistry(ref: string): Promise<boolean> {
    const at = ref.indexOf("@");
    return at > 0 && await manifestStatus(ref.slice(0, at), ref.slice(at + 1), 5) === "200";
}

/** The digest a registry holds for a tag (its Docker-Content-Digest); throws naming the tag. */
export async function tagDigest(repo: string, tag: string): Promise<string> {
    const url = registryUrl(`${repo}@${tag}`, `manifests/${tag}`);
    if (!url) throw new Error(`${repo} is not registry/repository`);
    const r = await run("curl", ["-sSfI", "--max-time", "10", "-H", `Accept: ${MANIFEST_ACCEPT}`, url], process.env);
    const m = /^docker-content-digest:\s*(sha256:[0-9a-f]{64})\s*$/im.exec(r.out);
    if (r.code !== 0 || !m) throw new Error(`cannot read the digest of ${repo}:${tag} from its registry (${r.out.split("\n").pop()})`);
    return m[1];
}

/** GET a registry path of an image's repository, as JSON; throws naming the path and curl's error. */
export async function registryGet(ref: string, what: string, accept: string): Promise<unknown> {
    const url = registryUrl(ref, what);
    const r = url ? await run("curl", ["-sSfL", "--max-time", "10", "-H", `Accept: ${accept}`, url], process.env) : { code: 1, out: "not repo@digest" };
    if (r.code !== 0) throw new Error(`cannot read ${what} of ${ref} from its registry (${r.out.split("\n").pop()})`);
    return JSON.parse(r.out);
}
