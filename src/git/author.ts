/**
 * Git for the repositories Flotilla writes itself (the demos copy the examples into a fresh
 * repository and commit to it): commits carry Flotilla's own identity, so they work whatever the
 * user's git configuration is, or without one.
 */
import { runGit } from "./run.ts";

const AUTHOR = { GIT_AUTHOR_NAME: "Flotilla Demo", GIT_AUTHOR_EMAIL: "demo@flotilla.invalid", GIT_COMMITTER_NAME: "Flotilla Demo", GIT_COMMITTER_EMAIL: "demo@flotilla.invalid" };

/** A git runner for the repository at `cwd` that commits as Flotilla; resolves to the command's standard output. */
export function authoredGit(cwd: string, env: NodeJS.ProcessEnv): (...args: string[]) => Promise<string> {
  return (...args) => runGit(args, { cwd, env: { ...env, ...AUTHOR } });
}
