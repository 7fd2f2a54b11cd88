/**
 * The mass-delete guard, one rule for `flotilla apply` and the controller: a pass that would delete
 * more than one service and more than `maxFraction` of the services Flotilla manages is held back
 * (apply: unless --confirm-mass-delete; the controller: as pending deletes an operator confirms).
 * It catches what deletes many services by accident — a branch emptied, a sub-path renamed — while
 * removing one service stays an ordinary change, however small the repository.
 */
export interface DeleteGuardInput {
  /** Services this pass would delete. */
  deletes: number;
  /** Services Flotilla manages in the pass's scope before it (those to delete included). */
  managed: number;
  /** 0–1: the largest fraction deleted at once without confirmation. */
  maxFraction: number;
  confirmed?: boolean;
}

export type DeleteGuardVerdict = { held: false } | { held: true; message: string };

export function massDeleteGuard(input: DeleteGuardInput): DeleteGuardVerdict {
  // The record may know fewer services than are being deleted (never deployed, or deployed elsewhere).
  const managed = Math.max(input.managed, input.deletes);
  if (input.confirmed || input.deletes <= 1 || input.deletes / managed <= input.maxFraction) return { held: false };
  return { held: true, message: `this would delete ${input.deletes} of ${managed} managed services, more than ${Math.round(input.maxFraction * 100)}%` };
}
