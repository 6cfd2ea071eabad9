// The rollback-or-hotfix decision tree of the hotfix runbook, as a pure function.

export interface DecideInput {
    /** Production is down or customers are impacted (within the last 30 minutes). */
    readonly impactingCustomers: boolean;
    /** The issue can be mitigated by configuration or a feature flag, without code changes. */
    readonly configFix: boolean;
    /** Minutes a low-risk patch needs to be built and validated; undefined when there is none. */
    readonly patchMinutes?: number;
    /** The regression is also present in the prior release (rolling back would not remove it). */
    readonly regressionInPrior?: boolean;
}

export type Action = "rollback" | "config-hotfix" | "hotfix";

export interface Decision {
    readonly action: Action;
    readonly reason: string;
    readonly next: string;
}

/** The runbook's 15-minute time-to-recover target for a patch. */
export const PATCH_LIMIT_MINUTES = 15;

const NEXT: Record<Action, string> = {
    "rollback": "deployctl rollback previous --stack <stack> (add --db down|restore only if the schema change is not backward-compatible)",
    "config-hotfix": "pulumi config set api-server:appEnv ... (or flip the feature flag), then deployctl deploy with the same release",
    "hotfix": "branch from the last good commit, tag vX.Y.Z+1, build and push, then deployctl deploy with the new digest",
};

/** Walks the runbook's decision tree. */
export function decide(input: DecideInput): Decision {
    const d = (action: Action, reason: string): Decision => ({ action, reason, next: NEXT[action] });
    if (input.regressionInPrior) {
        return d("hotfix", "the regression is present in the prior release too, so rolling back would not remove it");
    }
    if (input.impactingCustomers) {
        return d("rollback", "production is down or customer-impacting: roll back immediately");
    }
    if (input.configFix) {
        return d("config-hotfix", "the issue can be mitigated by configuration or a feature flag without code changes");
    }
    if (input.patchMinutes !== undefined && input.patchMinutes <= PATCH_LIMIT_MINUTES) {
        return d("hotfix", `a low-risk patch can be validated in ${input.patchMinutes} min, within the ${PATCH_LIMIT_MINUTES}-minute target`);
    }
    const why = input.patchMinutes === undefined
        ? "there is no low-risk patch"
        : `the patch needs ${input.patchMinutes} min, more than the ${PATCH_LIMIT_MINUTES}-minute target`;
    return d("rollback", `${why}: roll back to the previous known-good artifact`);
}
