/**
 * Typed store errors with stable codes, so callers branch on `code` rather than on messages
 * (e.g. the runner reloads and retries on FLT-STORE-CONFLICT; the CLI prints NOT-FOUND as usage).
 */

import { FlotillaError } from "../core/problems.ts";

export type StoreErrorCode =
  | "FLT-STORE-CONFLICT"
  | "FLT-STORE-NOT-FOUND"
  | "FLT-STORE-ACTIVE-DEPLOYMENT"
  | "FLT-STORE-DEPLOYMENT-FINISHED"
  | "FLT-STORE-DUPLICATE"
  | "FLT-STORE-INVALID"
  | "FLT-STORE-FENCED";

/** A FlotillaError, so the CLI and the API report it with its code like any other problem. */
export class StoreError extends FlotillaError {
  declare readonly problem: FlotillaError["problem"] & { code: StoreErrorCode };
  constructor(code: StoreErrorCode, message: string) {
    super({ code, message });
    this.name = "StoreError";
  }
  override get code(): StoreErrorCode {
    return this.problem.code;
  }
}

/** The deployment's version moved since the caller read it: reload, re-decide, retry. */
export class VersionConflictError extends StoreError {
  readonly deploymentId: string;
  readonly expectedVersion: number;
  readonly actualVersion: number;
  constructor(deploymentId: string, expectedVersion: number, actualVersion: number) {
    super(
      "FLT-STORE-CONFLICT",
      `Deployment ${deploymentId} changed concurrently: expected version ${expectedVersion}, found ${actualVersion}.`,
    );
    this.name = "VersionConflictError";
    this.deploymentId = deploymentId;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}

/** A service already has a non-terminal deployment; only one may run at a time. */
export class ActiveDeploymentError extends StoreError {
  readonly activeDeploymentId: string | null;
  /** `owner`: who drives the deployment in progress and until when its lease lasts (`now` on the store's clock). */
  constructor(service: string, activeDeploymentId: string | null, owner?: { id: string; expiresAt: number; now: number }) {
    const who = !owner ? "" : owner.expiresAt > owner.now ? `, driven by ${owner.id}` : `, left by ${owner.id} (its lease ended at ${new Date(owner.expiresAt).toISOString()}: the next start or another replica adopts it)`;
    super(
      "FLT-STORE-ACTIVE-DEPLOYMENT",
      `Service ${service} already has a deployment in progress${activeDeploymentId ? ` (${activeDeploymentId}${who})` : ""}; wait for it to finish or abort it.`,
    );
    this.name = "ActiveDeploymentError";
    this.activeDeploymentId = activeDeploymentId;
  }
}

/**
 * A state write that does not come from the deployment's current owner: its fencing token is stale
 * (another process adopted the deployment), its lease has expired, or it carries no token while a
 * live owner holds one. The writer must stop acting on the deployment.
 */
export class FencedError extends StoreError {
  readonly deploymentId: string;
  constructor(deploymentId: string, message: string) {
    super("FLT-STORE-FENCED", message);
    this.name = "FencedError";
    this.deploymentId = deploymentId;
  }
}

export function isStoreError(e: unknown, code?: StoreErrorCode): e is StoreError {
  return e instanceof StoreError && (code === undefined || e.code === code);
}
