/**
 * What a commit does, per object (DESIGN.md §1):
 *   svcdef, taskdef or input added/changed  → deploy (create or update, decided against live state)
 *   only the depdef changed                 → nothing (the settings apply to the next deployment)
 *   svcdef removed                          → delete the service
 *   taskdef removed, svcdef kept            → deploy with the svcdef's taskDefinition
 * The first commit counts as every file added. A removed svcdef whose service (region, cluster,
 * name) is still claimed by an object of the new commit is a move: never delete a production
 * service because its folder was renamed.
 */
import type { Problem } from "../core/problems.ts";
import { classifyFile, discoverObjects, type FileKind, type ObjectFiles } from "./discover.ts";
import { diffCommits, git, repositoryRoot, resolveRevision, type FileChange } from "../git/read.ts";
import { identityKey, loadObject, type LoadedObject, type LoadOptions, type ServiceIdentity } from "./load-object.ts";
import { loadOptions, mapBounded } from "./repository.ts";
import { GitCommitSource } from "./source.ts";
import path from "node:path";
import { RefCache } from "./inputs.ts";
import { checkObjectCount } from "./limits.ts";

export type ChangeAction = "deploy" | "delete" | "none";

export type ChangeReason =
  | "initial" // first commit: every file counts as added
  | "created" // a new svcdef
  | "changed" // svcdef, taskdef or input added or modified
  | "taskdef-removed" // deploy with the svcdef's taskDefinition
  | "depdef-only" // nothing deploys
  | "svcdef-removed" // delete
  | "moved-in" // a new object takes over a service whose old object was removed
  | "moved-out" // the svcdef was removed but another object now manages the service
  | "forced" // a forced redeploy: every object at the commit counts as changed
  | "blocked-before"; // unchanged, but blocked at the previous commit (what it needed was missing in AWS): deploy it now

export interface ObjectChange {
  object: string;
  action: ChangeAction;
  reason: ChangeReason;
  /** One line a person can read. */
  description: string;
  files: { path: string; status: "added" | "modified" | "deleted" }[];
  identity?: ServiceIdentity;
  /** For moves: the object on the other side. */
  counterpart?: string;
  /** The object as loaded at the new commit (for deploys) or the old one (for deletes). */
  loaded?: LoadedObject;
  problems: Problem[];
}

export interface ChangeSet {
  from?: string;
  to: string;
  changes: ObjectChange[];
  /** When the commit removes an object: the objects that cannot be read at the new commit (any one may manage a removed service). */
  unreadable: string[];
}

/** Where the commits are read: a directory inside a working tree, or a git directory (bare mirrors) and a sub-path. */
export type ChangeLocation =
  | {
      /** The Flotilla tree's root inside the repository (a sub-path); object names are relative to it. */
      dir: string;
    }
  | {
      /** A git directory, e.g. a bare mirror; no working tree is needed. */
      gitDir: string;
      /** The Flotilla tree's root inside the repository (repository-relative, `/`-separated); "" or absent for the root. */
      subPath?: string | null | undefined;
    };

export type ChangeOptions = ChangeLocation & {
  from?: string | undefined;
  to: string;
  load?: Partial<LoadOptions>;
  /** Every object with a svcdef at `to` deploys, changed or not (a forced redeploy). */
  force?: boolean;
  /** Objects blocked at the previous commit: each deploys, changed or not, while it has a svcdef at `to`. */
  retry?: readonly string[];
};

/** Resolve DIR to (git root, sub-path). */
export async function locateTree(dir: string): Promise<{ root: string; subPath: string }> {
  const root = await repositoryRoot(dir);
  const rel = path.relative(await realpath(root), await realpath(path.resolve(dir)));
  return { root, subPath: rel.split(path.sep).join("/") };
}

async function realpath(p: string): Promise<string> {
  const { realpath: rp } = await import("node:fs/promises");
  return rp(p);
}

/** The parent of a commit, or undefined for a root commit. */
export async function parentOf(cwd: string, commit: string): Promise<string | undefined> {
  const out = (await git(cwd, ["rev-list", "--parents", "-n", "1", "--end-of-options", commit])).trim().split(" ");
  return out[1];
}

async function locate(options: ChangeLocation): Promise<{ root: string; subPath: string }> {
  if ("gitDir" in options) return { root: options.gitDir, subPath: (options.subPath ?? "").replace(/^\/+|\/+$/g, "") };
  return locateTree(options.dir);
}

export async function classifyChanges(options: ChangeOptions): Promise<ChangeSet> {
  const { root, subPath } = await locate(options);
  const to = await resolveRevision(root, options.to);
  const from = options.from ? await resolveRevision(root, options.from) : undefined;
  const newTree = new GitCommitSource(root, to, subPath);
  const oldTree = from ? new GitCommitSource(root, from, subPath) : undefined;
  const load = loadOptions(options.load);
  const oldLoad = { ...load, refs: new RefCache() };
  try {
    const fileChanges = from ? await changedFiles(root, from, to, subPath) : (await newTree.listFiles()).map((p): FileChange => ({ status: "A", path: p }));
    const touched = new Map<string, Map<FileKind, FileChange>>();
    for (const change of fileChanges) {
      const c = classifyFile(change.path);
      if (!c) continue;
      let kinds = touched.get(c.object);
      if (!kinds) touched.set(c.object, (kinds = new Map<FileKind, FileChange>()));
      kinds.set(c.kind, change);
    }
    const discovered = discoverObjects(await newTree.listFiles());
    checkObjectCount(discovered, load.limits, `commit ${to.slice(0, 12)}`);
    const newObjects = new Map(discovered.map((o) => [o.name, o]));
    const oldObjects = oldTree ? new Map(discoverObjects(await oldTree.listFiles()).map((o) => [o.name, o])) : new Map<string, ObjectFiles>();

    const changes: ObjectChange[] = [];
    const removed: string[] = [];
    const unreadable: string[] = [];
    for (const [name, kinds] of touched) {
      const files = [...kinds.values()].map((f) => ({ path: f.path, status: f.status === "A" ? ("added" as const) : f.status === "D" ? ("deleted" as const) : ("modified" as const) }));
      const now = newObjects.get(name);
      if (!now?.svcdef) {
        if (kinds.get("svcdef")?.status === "D") removed.push(name);
        continue; // files without a svcdef belong to no service
      }
      const svc = kinds.get("svcdef");
      const deployTriggers = (["svcdef", "taskdef", "input"] as const).filter((k) => kinds.has(k));
      if (deployTriggers.length === 0) {
        changes.push({ object: name, action: "none", reason: "depdef-only", description: "only the depdef changed: its settings apply to the next deployment", files, problems: [] });
        continue;
      }
      const reason: ChangeReason = !from ? "initial" : svc?.status === "A" ? "created" : kinds.get("taskdef")?.status === "D" ? "taskdef-removed" : "changed";
      changes.push({ object: name, action: "deploy", reason, description: describeDeploy(reason, deployTriggers, kinds), files, problems: [] });
    }

    if (options.force) {
      for (const o of newObjects.values()) {
        if (!o.svcdef) continue;
        const existing = changes.find((c) => c.object === o.name);
        if (existing?.action === "deploy") continue;
        const files = existing?.files ?? [];
        if (existing) changes.splice(changes.indexOf(existing), 1);
        changes.push({ object: o.name, action: "deploy", reason: "forced", description: "forced redeploy: deploy even though nothing changed", files, problems: [] });
      }
    }

    for (const name of options.retry ?? []) {
      const existing = changes.find((c) => c.object === name);
      if (!newObjects.get(name)?.svcdef || existing?.action === "deploy" || existing?.action === "delete") continue;
      if (existing) changes.splice(changes.indexOf(existing), 1);
      changes.push({ object: name, action: "deploy", reason: "blocked-before", description: "blocked at the previous commit (what it needs was missing in AWS): deploy it if it exists now", files: existing?.files ?? [], problems: [] });
    }

    // Load what deploys, at the new commit.
    await mapBounded(
      changes.filter((c) => c.action === "deploy"),
      16,
      async (c) => {
        c.loaded = await loadObject(newTree, newObjects.get(c.object)!, load);
        if (c.loaded.identity) c.identity = c.loaded.identity;
        c.problems = c.loaded.problems;
      },
    );

    if (removed.length > 0) {
      // Who manages which service at the new commit? Every object counts, changed or not.
      const claims = new Map<string, string>();
      for (const c of changes) if (c.identity) claims.set(identityKey(c.identity), c.object);
      const unchanged = [...newObjects.values()].filter((o) => o.svcdef && !changes.some((c) => c.object === o.name));
      unreadable.push(...changes.filter((c) => c.action === "deploy" && !c.identity).map((c) => c.object));
      for (const o of await mapBounded(unchanged, 16, (f) => loadObject(newTree, f, load))) {
        if (!o.identity) unreadable.push(o.name);
        else if (!claims.has(identityKey(o.identity))) claims.set(identityKey(o.identity), o.name);
      }
      for (const name of removed) {
        const before = await loadObject(oldTree!, oldObjects.get(name)!, oldLoad);
        const files = [...touched.get(name)!.values()].map((f) => ({ path: f.path, status: f.status === "D" ? ("deleted" as const) : f.status === "A" ? ("added" as const) : ("modified" as const) }));
        if (!before.identity) {
          changes.push({
            object: name,
            action: "delete",
            reason: "svcdef-removed",
            description: "the svcdef was removed, but it cannot be read at the old commit, so the service to delete is unknown: nothing will be deleted",
            files,
            loaded: before,
            problems: [
              {
                code: "FLT-CHANGE-DELETE-UNIDENTIFIED",
                severity: "error",
                object: name,
                file: oldObjects.get(name)!.svcdef!,
                message: "the removed svcdef could not be rendered at the old commit, so Flotilla cannot tell which service to delete",
                hint: "delete the service by hand, or restore the svcdef and remove it in a commit where it is valid",
              },
              ...before.problems.filter((p) => p.severity === "error"),
            ],
          });
          continue;
        }
        const key = identityKey(before.identity);
        const heir = claims.get(key);
        if (heir) {
          changes.push({ object: name, action: "none", reason: "moved-out", description: `moved to ${heir}: the service is kept and updated there`, files, identity: before.identity, counterpart: heir, problems: [] });
          const target = changes.find((c) => c.object === heir);
          if (target && target.action === "deploy") {
            target.reason = "moved-in";
            target.counterpart = name;
            target.description = `moved from ${name}: update the existing service, never delete and recreate it`;
          }
        } else {
          // An object we cannot read may be this service's new home (a rename with a broken template):
          // deleting would then destroy a live service, so the delete waits until every object reads.
          const problems: Problem[] = unreadable.length
            ? [
                {
                  code: "FLT-CHANGE-DELETE-UNSAFE",
                  severity: "error",
                  object: name,
                  file: oldObjects.get(name)!.svcdef!,
                  message: `not deleting service ${before.identity.service}: ${unreadable.join(", ")} cannot be read at the new commit and may manage it`,
                  hint: "fix those objects, then confirm the delete: the controller keeps it as a pending delete (flotilla pending-delete confirm)",
                },
              ]
            : [];
          changes.push({ object: name, action: "delete", reason: "svcdef-removed", description: `the svcdef was removed: delete service ${before.identity.service} from cluster ${before.identity.cluster}`, files, identity: before.identity, loaded: before, problems });
        }
      }
    }
    changes.sort((a, b) => (a.object < b.object ? -1 : a.object > b.object ? 1 : 0));
    return { ...(from ? { from } : {}), to, changes, unreadable: unreadable.sort() };
  } finally {
    newTree.close();
    oldTree?.close();
  }
}

async function changedFiles(root: string, from: string, to: string, subPath: string): Promise<FileChange[]> {
  const all = await diffCommits(root, from, to);
  if (!subPath) return all;
  const prefix = subPath + "/";
  return all.filter((c) => c.path.startsWith(prefix)).map((c) => ({ ...c, path: c.path.slice(prefix.length) }));
}

function describeDeploy(reason: ChangeReason, triggers: FileKind[], kinds: Map<FileKind, FileChange>): string {
  if (reason === "initial") return "first commit: deploy (create the service, or update it if it exists)";
  if (reason === "created") return "new svcdef: deploy (create the service, or update it if it exists)";
  if (reason === "taskdef-removed") return "the taskdef was removed: deploy with the svcdef's taskDefinition";
  const what = triggers.map((k) => `${k} ${kinds.get(k)!.status === "A" ? "added" : kinds.get(k)!.status === "D" ? "removed" : "changed"}`);
  return `${what.join(", ")}: deploy`;
}
