/**
 * Deletes the controller holds back instead of forgetting them. A removed object whose delete waits
 * — deletes are off (`serve` without --allow-delete), the mass-delete guard, or an unreadable object
 * that may now manage the service (FLT-CHANGE-DELETE-UNSAFE) — is a pending delete in the store,
 * with what the delete needs. It ends one of three ways: the delete is carried out (a restart with
 * --allow-delete, or an operator's confirmation), an operator dismisses it (the service stays), or a
 * later commit re-adds the object or gives its service to another object (cleared).
 */
import { identityKey } from "../config/load-object.ts";
import type { DeploySpec } from "../deploy/spec.ts";
import type { Store } from "../store/store.ts";
import type { NewPendingDelete, PendingDeleteReason, Repository } from "../store/types.ts";
import type { CommitPlan } from "./process-commit.ts";

/** What a held delete tells the user, by reason (the mass-delete guard words its own). */
export const HELD_BECAUSE: Record<Exclude<PendingDeleteReason, "mass-delete">, string> = {
  "deletes-off": "deletes are off: restart flotilla serve with --allow-delete, or confirm this delete (flotilla pending-delete confirm)",
  unsafe: "an object of the commit cannot be read and may manage this service: fix it, then confirm this delete (flotilla pending-delete confirm)",
};

/** The pending delete of a removed object, with what its delete needs (the object as it was before removal). */
export function pendingDeleteOf(repository: Repository, plan: CommitPlan, object: string, spec: DeploySpec, reason: PendingDeleteReason, message: string, code: string | null = null): NewPendingDelete {
  return { repository: repository.name, object, branch: repository.branch, commitSha: plan.commit.sha, region: spec.region, cluster: spec.cluster, service: spec.service, reason, code, message, spec };
}

/**
 * Clears the pending deletes a commit undoes: its object is back (whatever state it is in: the
 * removal was reverted), or a readable object now manages the same service (a move done in two
 * commits). Returns the objects cleared.
 */
export async function clearUndoneDeletes(store: Store, repository: string, plan: CommitPlan): Promise<string[]> {
  const pending = await store.listPendingDeletes({ repository });
  if (pending.length === 0) return [];
  const present = new Set(plan.deploy.map((c) => c.object));
  const claimed = new Set(plan.deploy.filter((c) => c.identity).map((c) => identityKey(c.identity!)));
  const cleared: string[] = [];
  for (const p of pending) {
    if (present.has(p.object) || claimed.has(identityKey(p))) {
      await store.removePendingDelete(repository, p.object);
      cleared.push(p.object);
    }
  }
  return cleared;
}
