/**
 * What a rainbow object looks like in AWS, as data: its listeners with their rules and live routes,
 * the versions found on them, and which of those are live. Read by discover.ts, reasoned about here
 * with pure functions the machine (machine.ts) and the CLI share: which priority a new rule takes,
 * which version is live, which versions a cleanup removes.
 */
import type { RainbowConfig } from "../../config/rainbow.ts";
import type { Route } from "../traffic/route.ts";
import { forwardedGroups } from "../traffic/route.ts";

export interface RuleView {
  ruleArn: string;
  /** A number; the default rule is not listed. */
  priority: number;
  conditions: Record<string, unknown>[];
  /** Target groups its forward actions name. */
  forwardsTo: string[];
}

export interface ListenerView {
  listenerArn: string;
  protocol?: string;
  port?: number;
  /** The route a cutover switches: the listener's default action, or its live rule. */
  live: Route;
  rules: RuleView[];
}

export interface VersionService {
  serviceName: string;
  status: string;
  desiredCount: number;
  runningCount: number;
  createdAt: number;
  /** Tagged `flotilla:protected` = `true`: a cleanup never removes it. */
  protected: boolean;
  taskDefinition?: string;
}

/** One version as found in AWS: any of its parts may be missing (a deploy cut short, a cleanup half done). */
export interface VersionView {
  version: string;
  serviceName: string;
  targetGroupName: string;
  targetGroupArn?: string;
  /** Its rules, one per listener that has one. */
  rules: { listenerArn: string; ruleArn: string; priority: number }[];
  service?: VersionService;
}

export interface RainbowWorld {
  listeners: ListenerView[];
  versions: VersionView[];
}

export const PROTECTED_TAG = "flotilla:protected";

/** Target groups the live routes send traffic to (weight above 0). */
export function liveTargetGroups(world: Pick<RainbowWorld, "listeners">): string[] {
  return [...new Set(world.listeners.flatMap((l) => forwardedGroups(l.live, true)))];
}

/** Versions any live route sends traffic to. */
export function liveVersions(world: RainbowWorld): VersionView[] {
  const live = new Set(liveTargetGroups(world));
  return world.versions.filter((v) => v.targetGroupArn !== undefined && live.has(v.targetGroupArn));
}

/**
 * Target groups some route other than a version's own rules forwards to (the live routes, a rule
 * written by hand): a cleanup must not take them away, and ELB would refuse (ResourceInUse).
 */
export function referencedElsewhere(world: RainbowWorld): Set<string> {
  const own = new Set(world.versions.flatMap((v) => v.rules.map((r) => r.ruleArn)));
  const out = new Set<string>();
  for (const l of world.listeners) {
    for (const tg of forwardedGroups(l.live, false)) out.add(tg);
    for (const r of l.rules) if (!own.has(r.ruleArn)) for (const tg of r.forwardsTo) out.add(tg);
  }
  return out;
}

export function findVersion(world: RainbowWorld, version: string): VersionView | undefined {
  return world.versions.find((v) => v.version === version);
}

/** Whether any part of a version exists (its service not yet INACTIVE, its target group, a rule). */
export function versionExists(v: VersionView | undefined): boolean {
  return v !== undefined && (v.targetGroupArn !== undefined || v.rules.length > 0 || (v.service !== undefined && v.service.status !== "INACTIVE"));
}

/** The lowest priority in the range no rule of the listener has (nor any in `alsoTaken`), or undefined when the range is full. */
export function freePriority(listener: Pick<ListenerView, "rules">, range: RainbowConfig["rulePriorities"], alsoTaken: readonly number[] = []): number | undefined {
  const taken = new Set([...listener.rules.map((r) => r.priority), ...alsoTaken]);
  for (let p = range.from; p <= range.to; p++) if (!taken.has(p)) return p;
  return undefined;
}

export interface CleanupChoice {
  remove: VersionView[];
  /** Versions kept, each with why. */
  kept: { version: string; why: string }[];
}

/**
 * Which versions a cleanup removes. Never a live one, one another route forwards to, a protected
 * one (tag `flotilla:protected`), an excluded one, or one in `keepAlso` (the version a cutover just
 * left, while `keep` is at least 1, so a cut-back stays possible). Of the rest, the `keep` newest
 * stay, and with `olderThan` only versions older than that go. A version with no service (left
 * half-made) is the oldest there is.
 */
export function chooseForCleanup(world: RainbowWorld, policy: RainbowConfig["cleanup"], now: number, keepAlso: readonly string[] = []): CleanupChoice {
  const live = new Set(liveVersions(world).map((v) => v.version));
  const elsewhere = referencedElsewhere(world);
  const excluded = new Set(policy.exclude);
  const kept: CleanupChoice["kept"] = [];
  const candidates: VersionView[] = [];
  for (const v of world.versions) {
    if (live.has(v.version)) kept.push({ version: v.version, why: "live" });
    else if (v.targetGroupArn !== undefined && elsewhere.has(v.targetGroupArn)) kept.push({ version: v.version, why: "another route forwards to its target group" });
    else if (v.service?.protected) kept.push({ version: v.version, why: `protected (tag ${PROTECTED_TAG})` });
    else if (excluded.has(v.version)) kept.push({ version: v.version, why: "excluded by the cleanup policy" });
    else candidates.push(v);
  }
  const age = (v: VersionView) => v.service?.createdAt ?? -Infinity;
  candidates.sort((a, b) => age(b) - age(a) || b.version.localeCompare(a.version));
  let keep = policy.keep;
  const remove: VersionView[] = [];
  // The cut-back target is kept first, and counts as one of the `keep`.
  for (const v of candidates.filter((c) => keepAlso.includes(c.version))) {
    if (keep > 0) {
      kept.push({ version: v.version, why: "the version the cutover left (kept for a cut-back)" });
      keep--;
    }
  }
  for (const v of candidates) {
    if (kept.some((k) => k.version === v.version)) continue;
    if (keep > 0) {
      kept.push({ version: v.version, why: `one of the ${policy.keep} newest versions that are not live` });
      keep--;
    } else if (policy.olderThan > 0 && v.service && now - v.service.createdAt <= policy.olderThan * 1000) {
      kept.push({ version: v.version, why: `younger than ${policy.olderThan}s` });
    } else remove.push(v);
  }
  // Oldest first: the order they are removed in.
  return { remove: remove.reverse(), kept };
}
