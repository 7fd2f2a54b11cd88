/** Input checks that keep bad data, and above all secrets, out of the store. */
import { StoreError } from "./errors.ts";
import { CONTROL_ACTIONS, PHASES } from "./types.ts";
import type { ControlAction, NewRepository, Phase, TokenRole } from "./types.ts";

/** The name of a credential defined in the server configuration (what a repository stores). */
export const CREDENTIAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function invalid(message: string): never {
  throw new StoreError("FLT-STORE-INVALID", message);
}

export function checkPhase(phase: string): Phase {
  if (!(PHASES as readonly string[]).includes(phase)) invalid(`Unknown phase "${phase}"; expected one of ${PHASES.join(", ")}.`);
  return phase as Phase;
}

export function checkAction(action: string): ControlAction {
  if (!(CONTROL_ACTIONS as readonly string[]).includes(action)) {
    invalid(`Unknown control "${action}"; expected one of ${CONTROL_ACTIONS.join(", ")}.`);
  }
  return action as ControlAction;
}

export function checkRole(role: string): TokenRole {
  if (role !== "read-only" && role !== "operator") invalid(`Unknown token role "${role}"; expected read-only or operator.`);
  return role;
}

/** A URL with a user or password in it would put a secret in the store: refuse it. */
export function checkRepositoryUrl(url: string): void {
  if (url.trim() === "") invalid("A repository needs a URL or a local path.");
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return; // a local path or scp-like `git@host:org/repo`
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return invalid(`"${url}" is not a valid URL.`);
  }
  const httpLike = parsed.protocol === "http:" || parsed.protocol === "https:";
  if (parsed.password !== "" || (httpLike && parsed.username !== "")) {
    invalid(
      "The repository URL carries credentials; Flotilla never stores secrets. " +
        'Remove them from the URL and name a credential of the server configuration instead, e.g. "credentials": "github".',
    );
  }
}

export function checkCredentials(name: string | null | undefined): void {
  if (name === null || name === undefined) return;
  if (typeof name !== "string" || !CREDENTIAL_NAME.test(name)) invalid("credentials must be the name of a credential defined in the server configuration.");
}

export function checkRepository(input: Omit<NewRepository, "name"> & { name?: string }): void {
  if (input.name !== undefined && input.name.trim() === "") invalid("A repository needs a name.");
  checkRepositoryUrl(input.url);
  if (input.branch.trim() === "") invalid("A repository needs a branch.");
  const poll = input.pollIntervalSeconds;
  if (poll !== undefined && (!Number.isInteger(poll) || poll <= 0)) invalid("pollIntervalSeconds must be a positive integer.");
  checkCredentials(input.credentials);
}
