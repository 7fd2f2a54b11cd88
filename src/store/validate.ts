/** Input checks that keep bad data, and above all secrets, out of the store. */
import { StoreError } from "./errors.ts";
import { CONTROL_ACTIONS, PHASES } from "./types.ts";
import type { ControlAction, CredentialsRef, NewRepository, Phase, TokenRole } from "./types.ts";

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
        'Remove them from the URL and reference them instead, e.g. credentials {"kind":"env","name":"GIT_TOKEN"}.',
    );
  }
}

export function checkCredentials(ref: CredentialsRef | null | undefined): void {
  if (ref === null || ref === undefined) return;
  switch (ref.kind) {
    case "env":
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(ref.name)) invalid(`"${ref.name}" is not an environment variable name.`);
      return;
    case "file":
      if (ref.path.trim() === "") invalid("A credentials file reference needs a path.");
      return;
    case "helper":
      if (ref.helper.trim() === "") invalid("A credential helper reference needs a helper.");
      return;
    default:
      invalid(`Unknown credentials kind "${(ref as { kind: string }).kind}"; expected env, file or helper.`);
  }
}

export function checkRepository(input: Omit<NewRepository, "name"> & { name?: string }): void {
  if (input.name !== undefined && input.name.trim() === "") invalid("A repository needs a name.");
  checkRepositoryUrl(input.url);
  if (input.branch.trim() === "") invalid("A repository needs a branch.");
  const poll = input.pollIntervalSeconds;
  if (poll !== undefined && (!Number.isInteger(poll) || poll <= 0)) invalid("pollIntervalSeconds must be a positive integer.");
  checkCredentials(input.credentials);
}
