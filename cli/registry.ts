// Reading an image's registry over its HTTP API, anonymously and without a pull:
// whether it holds a manifest (releases), and the manifest and config blob (provenance).
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

/** Whether a registry holds an image's manifest, asked with HEAD. */
export async function inRegistry(ref: string): Promise<boolean> {
    const url = registryUrl(ref, `manifests/${ref.slice(ref.indexOf("@") + 1)}`);
    if (!url) return false;
    const r = await run("curl", ["-sS", "-o", "/dev/null", "-I", "--max-time", "5", "-w", "%{http_code}", "-H", `Accept: ${MANIFEST_ACCEPT}`, url], process.env);
    return r.code === 0 && r.out.trim() === "200";
}

/** GET a registry path of an image's repository, as JSON; throws naming the path and curl's error. */
export async function registryGet(ref: string, what: string, accept: string): Promise<unknown> {
    const url = registryUrl(ref, what);
    const r = url ? await run("curl", ["-sSfL", "--max-time", "10", "-H", `Accept: ${accept}`, url], process.env) : { code: 1, out: "not repo@digest" };
    if (r.code !== 0) throw new Error(`cannot read ${what} of ${ref} from its registry (${r.out.split("\n").pop()})`);
    return JSON.parse(r.out);
}
