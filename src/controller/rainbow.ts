/**
 * The operator's rainbow verbs — `cutover OBJECT VERSION`, `cleanup OBJECT [--dry-run]` and the
 * list of versions — for the CLI and the API alike. Each runs as a recorded deployment of the
 * object (strategy `cutover` or `cleanup`) with the object's settings as Flotilla last deployed it,
 * so it needs no repository checkout: AWS holds the versions, the store holds the settings.
 */
import type { AwsPortsFactory } from "../aws/ports.ts";
import { versionProblem, versionRequestNote, versionUrl } from "../config/rainbow.ts";
import type { Clock } from "../core/clock.ts";
import { FlotillaError } from "../core/problems.ts";
import type { MachineState, Runner } from "../deploy/runner.ts";
import type { DeploySpec } from "../deploy/spec.ts";
import { discoverRainbow } from "../deploy/rainbow/discover.ts";
import { chooseForCleanup, liveVersions } from "../deploy/rainbow/world.ts";
import type { CleanupPlanAnswer, VersionsAnswer } from "../api/types.ts";
import type { TrafficRouter } from "../deploy/traffic/router.ts";
import { AlbRouter } from "../deploy/traffic/alb.ts";
import type { Store } from "../store/store.ts";
import type { Deployment } from "../store/types.ts";

/** What a version name may be (the API checks requests against it). */
export { MAX_VERSION_LENGTH, VERSION_PATTERN } from "../config/rainbow.ts";

/** The object's rainbow settings as last deployed, and the repository that deployed it. */
export async function rainbowSpec(store: Store, object: string): Promise<{ spec: DeploySpec; repository: string | null; branch: string | null }> {
  const latest = await store.latestDeployment(object);
  const spec = (latest?.machineState as MachineState | undefined)?.spec;
  if (!latest || !spec) throw new FlotillaError({ code: "FLT-OBJECT-NOT-FOUND", message: `no deployment of ${object} is recorded`, hint: "`flotilla status` lists the objects Flotilla has deployed" });
  if (!spec.depdef.rainbow) {
    throw new FlotillaError({ code: "FLT-OBJECT-NOT-RAINBOW", message: `${object} does not deploy rainbow versions: its depdef has no rainbow block`, hint: "a rolling or blue/green object goes back with `flotilla rollback OBJECT`" });
  }
  // The record of a deploy carries the version it made; the settings are what matters here.
  const { commitSha: _commit, ...rest } = spec;
  return { spec: rest, repository: latest.repository, branch: latest.branch };
}

export interface RainbowRequest {
  store: Store;
  runner: Runner;
  clock: Clock;
  requestedBy: string;
  /** How the request came: `cli` or `api`. */
  source: string;
}

/** Record a cutover of `object` to `version` (the caller runs it). */
export async function createCutover(r: RainbowRequest, object: string, version: string): Promise<Deployment> {
  const why = versionProblem(version);
  if (why) throw new FlotillaError({ code: "FLT-RAINBOW-VERSION", message: why });
  const { spec, repository, branch } = await rainbowSpec(r.store, object);
  return r.runner.create(spec, {
    strategy: "cutover",
    repository,
    branch,
    overrides: [{ name: "cutover", setBy: r.requestedBy, source: r.source, at: r.clock.now() }],
    rainbow: { version, by: r.requestedBy },
  });
}

/** Record a cleanup of `object`'s versions by its policy (the caller runs it). */
export async function createCleanup(r: RainbowRequest, object: string): Promise<Deployment> {
  const { spec, repository, branch } = await rainbowSpec(r.store, object);
  return r.runner.create(spec, { strategy: "cleanup", repository, branch, overrides: [{ name: "cleanup", setBy: r.requestedBy, source: r.source, at: r.clock.now() }], rainbow: { by: r.requestedBy } });
}

/** The region's ports and the ALB router over them (reads only, here). */
function router(aws: AwsPortsFactory, region: string): { ports: ReturnType<AwsPortsFactory>; router: TrafficRouter } {
  const ports = aws(region);
  return { ports, router: new AlbRouter(ports.elbv2) };
}

/** The object's versions as AWS has them, which is live, and the last cutover recorded. Read-only. */
export async function listVersions(store: Store, aws: AwsPortsFactory, object: string): Promise<VersionsAnswer> {
  const { spec } = await rainbowSpec(store, object);
  const cfg = spec.depdef.rainbow!;
  const { ports, router: r } = router(aws, spec.region);
  const world = await discoverRainbow(ports, r, { cluster: spec.cluster, service: spec.service, rainbow: cfg, versions: [] });
  const live = new Set(liveVersions(world).map((v) => v.version));
  const first = world.listeners[0] ?? {};
  const cutovers = await store.listDeployments({ object, phase: "Succeeded", limit: 100 });
  const last = cutovers.items.find((d) => d.strategy === "cutover" || (d.strategy === "rainbow" && (d.machineState as { switchedAt?: number }).switchedAt !== undefined));
  const lastState = last?.machineState as { target?: { version: string }; by?: string; switchedAt?: number } | undefined;
  return {
    object,
    versions: world.versions.map((v) => ({
      version: v.version,
      service: v.serviceName,
      status: v.service?.status ?? "missing",
      live: live.has(v.version),
      protected: v.service?.protected ?? false,
      desired: v.service?.desiredCount ?? null,
      running: v.service?.runningCount ?? null,
      createdAt: v.service ? new Date(v.service.createdAt).toISOString() : null,
      url: versionUrl(cfg, v.version, first),
      note: versionRequestNote(cfg, v.version),
      targetGroup: v.targetGroupName,
    })),
    lastCutover: last && lastState?.target && lastState.switchedAt !== undefined ? { version: lastState.target.version, by: lastState.by ?? "?", at: new Date(lastState.switchedAt).toISOString(), deployment: last.id } : null,
  };
}

/** Which versions a cleanup would remove now, and why the others stay. Read-only: `cleanup --dry-run`. */
export async function planCleanup(store: Store, aws: AwsPortsFactory, object: string, now: number): Promise<CleanupPlanAnswer> {
  const { spec } = await rainbowSpec(store, object);
  const cfg = spec.depdef.rainbow!;
  const { ports, router: r } = router(aws, spec.region);
  const world = await discoverRainbow(ports, r, { cluster: spec.cluster, service: spec.service, rainbow: cfg, versions: [] });
  const choice = chooseForCleanup(world, cfg.cleanup, now);
  return { object, remove: choice.remove.map((v) => v.version), kept: choice.kept };
}
