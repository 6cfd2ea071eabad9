// Optional off-site copy of each verified dump and release bundle: a private, versioned, encrypted S3 bucket.
// Only the S3 module: the package index loads every service's module list (about 0.15 s at each program start).
import * as s3 from "@pulumi/aws/s3";
import * as pulumi from "@pulumi/pulumi";
import { childOpts } from "./options";

export interface OffsiteCopyArgs {
    /** Local path of the verified dump to upload. */
    readonly dumpPath: pulumi.Input<string>;
    /** Its sha256, stored as object metadata. */
    readonly sha256: pulumi.Input<string>;
    /** The release artifact bundle, uploaded beside the dump. */
    readonly artifact?: { path: pulumi.Input<string>; sha256: pulumi.Input<string> };
}

/** The S3 key a dump (or, under artifacts/, a release bundle) is stored under. */
export function offsiteKey(dumpPath: string, folder = "dumps"): string {
    return `${folder}/${dumpPath.split("/").pop()}`;
}

/** Uploads verified dumps to a bucket nobody else can read; objects are never deleted by Pulumi. */
export class OffsiteCopy extends pulumi.ComponentResource {
    /** Bucket name. */
    public readonly bucket: pulumi.Output<string>;
    /** Key of the uploaded dump. */
    public readonly key: pulumi.Output<string>;

    constructor(name: string, args: OffsiteCopyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-server:release:OffsiteCopy", name, {}, opts);
        const bucket = new s3.Bucket(`${name}-bucket`, { forceDestroy: false }, { ...childOpts(this, opts), protect: true });
        new s3.BucketPublicAccessBlock(`${name}-public-access`, {
            bucket: bucket.id,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        }, childOpts(this, opts));
        new s3.BucketVersioning(`${name}-versioning`, {
            bucket: bucket.id,
            versioningConfiguration: { status: "Enabled" },
        }, childOpts(this, opts));
        new s3.BucketServerSideEncryptionConfiguration(`${name}-encryption`, {
            bucket: bucket.id,
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
        }, childOpts(this, opts));
        const key = pulumi.output(args.dumpPath).apply(offsiteKey);
        const object = new s3.BucketObjectv2(`${name}-dump`, {
            bucket: bucket.id,
            key,
            source: pulumi.output(args.dumpPath).apply(p => new pulumi.asset.FileAsset(p)),
            metadata: { sha256: args.sha256 },
        }, { ...childOpts(this, opts), retainOnDelete: true });
        if (args.artifact) {
            new s3.BucketObjectv2(`${name}-artifact`, {
                bucket: bucket.id,
                key: pulumi.output(args.artifact.path).apply(p => offsiteKey(p, "artifacts")),
                source: pulumi.output(args.artifact.path).apply(p => new pulumi.asset.FileAsset(p)),
                metadata: { sha256: args.artifact.sha256 },
            }, { ...childOpts(this, opts), retainOnDelete: true });
        }
        this.bucket = bucket.id;
        this.key = object.key;
        this.registerOutputs({ bucket: this.bucket, key: this.key });
    }
}
