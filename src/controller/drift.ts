/**
 * Drift (docs/controller.md, Drift): what runs, compared with what Git says, all the time. Every
 * `intervalMs` the detector plans each object of each repository — as of the repository's last
 * processed commit — against AWS, with the normalised diff `flotilla plan` shows (src/plan), masked
 * by the one masker, and records the result per object in the store. Cheap: the objects are loaded
 * once per commit, services are read through the runner's shared status sweep (one DescribeServices
 * per ten services of a cluster per round), and task definitions, which never change, are described
 * once per revision.
 *
 * An object that starts drifting, or comes back in line, is an activity event. With self-heal on
 * (the repository in the configuration's drift.selfHeal.repositories, or `"selfHeal": true` in its
 * depdef, which wins either way) a drifted object is redeployed from Git, recorded as the override
 * `self-heal`; never one with a deployment in flight, never while a sync window holds it or what it
 * needs is missing in AWS (the pre-check of every deployment, pass.ts), and not again after a heal
 * of the same commit failed.
 *
 * With several replicas, a repository is checked by one of them per interval: a pass takes the
 * repository's drift lease for an interval (the replica that checked it last keeps it while it
 * lives) and runs as the repository's one worker — in its queue, holding its lease, where its
 * commits are processed — so its heals are never refused.
 */
import { AwsError } from "../aws/errors.ts";
import type { AwsPortsFactory, Service, TaskDefinition } from "../aws/ports.ts";
import type { LoadedObject, LoadOptions } from "../config/load-object.ts";
import { versionFromCommit, versionServiceName } from "../config/rainbow.ts";
import { loadOptions, loadRepository, mapBounded } from "../config/repository.ts";
import { GitCommitSource } from "../config/source.ts";
import type { Clock } from "../core/clock.ts";
import type { StatusSweep } from "../deploy/sweep.ts";
import { driftLeaseKey, type Store } from "../store/store.ts";
import { commitExists } from "../git/read.ts";
import type { Deployment, DriftRecord, DriftStatus, NewActivityEvent, NewDriftRecord, Repository } from "../store/types.ts";
import type { Mirrors } from "./mirror.ts";
import type { RepositoryQueue } from "./repository-queue.ts";
import { problemLine } from "./commit-record.ts";
import { precheck } from "./pass.ts";
import { planFromLive } from "./plan.ts";
import { PassLookups } from "./prerequisites.ts";
import type { SyncWindows } from "./sync-windows.ts";
import { windowSubjects } from "./window-gate.ts";

export interface DriftOptions {
  store: Store;
  aws: AwsPortsFactory;
  clock: Clock;
  mirrors: Mirrors;
  /** The runner's status sweep: drift reads services in the same rounds as the deployments. */
  sweep: StatusSweep;
  /** This replica's owner id, for the drift lease. */
  holder: string;
  /** The repositories' work: a pass runs as a repository's one worker, or not at all (repository-queue.ts). */
  queue: Pick<RepositoryQueue, "whenFree">;
  /** Between two passes (default 5 minutes). */
  intervalMs?: number;
  /** Repositories whose drifted objects are redeployed (a depdef's `selfHeal` wins either way). */
  selfHealRepositories?: readonly string[];
  secretNames?: readonly string[];
  /** How objects are loaded, as the controller loads them (the environment inputs' ENV refs may read). */
  load?: Partial<LoadOptions>;
  /** Self-heal waits while a sync window holds the object. */
  windows?: SyncWindows;
  /** Objects checked at once per repository (default 8). */
  concurrency?: number;
  /**
   * Redeploys a drifted object from Git; called within the repository's pass (its queue and lease).
   * Answers once the deployment is created, undefined when none was.
   */
  heal: (repository: Repository, object: LoadedObject, sha: string, reasons: readonly string[]) => Promise<Deployment | undefined>;
  /** Records an activity (drift found, resolved, healed, held). */
  record: (event: NewActivityEvent) => Promise<unknown>;
  onWarning?: (message: string) => void;
}

const DRIFTED: ReadonlySet<DriftStatus> = new Set(["drifted", "missing"]);
const FAILED_ENDS = new Set(["Failed", "RolledBack", "Aborted"]);

export class DriftDetector {
  private readonly o: DriftOptions;
  /** Per repository, the objects of its last processed commit (loaded once per commit). */
  private readonly loaded = new Map<string, { sha: string; objects: LoadedObject[] }>();
  /** Task definitions by ARN: a revision never changes. */
  private readonly taskDefinitions = new Map<string, TaskDefinition | null>();
  private loop: AbortController | undefined;
  private running: Promise<void> | undefined;

  constructor(options: DriftOptions) {
    this.o = options;
  }

  get intervalMs(): number {
    return this.o.intervalMs ?? 5 * 60_000;
  }

  /** Check every `intervalMs`, the first pass one interval after the start (the first sync goes first). */
  start(): void {
    if (this.loop) return;
    const ac = new AbortController();
    this.loop = ac;
    this.running = (async () => {
      while (!ac.signal.aborted) {
        try {
          await this.o.clock.sleep(this.intervalMs, ac.signal);
        } catch {
          return;
        }
        await this.checkAll(undefined, { periodic: true }).catch((e: unknown) => this.o.onWarning?.(`drift check failed: ${String(e)}`));
      }
    })();
  }

  async stop(): Promise<void> {
    this.loop?.abort();
    this.loop = undefined;
    await this.running;
  }

  /**
   * One pass over every registered repository (or one). A repository being processed right now,
   * here or on another replica, is skipped: its deployments are in flight. `periodic`: only the
   * repositories whose drift lease this replica takes (or keeps) for the next interval.
   */
  async checkAll(only?: string, options: { periodic?: boolean } = {}): Promise<DriftRecord[]> {
    const out: DriftRecord[] = [];
    for (const repo of await this.o.store.listRepositories()) {
      if (only !== undefined && repo.name !== only) continue;
      try {
        out.push(...(await this.pass(repo, options.periodic ?? false)));
      } catch (e) {
        this.o.onWarning?.(`drift check of ${repo.name} failed: ${String(e)}`);
      }
    }
    return out;
  }

  /** A repository's pass, as its one worker (in its queue, holding its lease); periodic: in its turn. */
  private async pass(repo: Repository, periodic: boolean): Promise<DriftRecord[]> {
    const { store, holder } = this.o;
    const turn = driftLeaseKey(repo.name, repo.branch);
    // Another replica checked it less than an interval ago, and still lives.
    if (periodic && !(await store.acquireLease(turn, holder, this.intervalMs))) return [];
    const records = await this.o.queue.whenFree(repo.name, (current) => this.checkRepository(current));
    // Busy (a commit being processed): the turn goes to whichever replica is free first.
    if (records === undefined && periodic) await store.releaseLease(turn, holder);
    return records ?? [];
  }

  async checkRepository(repo: Repository): Promise<DriftRecord[]> {
    const { store } = this.o;
    const last = await store.getLastCommit(repo.name, repo.branch);
    if (!last) return [];
    const objects = await this.objectsAt(repo, last.sha);
    if (!objects) return [];
    await store.pruneDrift(repo.name, objects.map((o) => o.name));
    const checked = await mapBounded(
      objects.filter((o) => o.valid && o.identity && o.svcdef),
      this.o.concurrency ?? 8,
      (o) => this.checkObject(repo, last.sha, o),
    );
    return checked.filter((r): r is DriftRecord => r !== undefined);
  }

  /** The objects of the commit, from the mirror (undefined when they cannot be read: warned). */
  private async objectsAt(repo: Repository, sha: string): Promise<LoadedObject[] | undefined> {
    const cached = this.loaded.get(repo.name);
    if (cached?.sha === sha) return cached.objects;
    let objects: LoadedObject[];
    let source: GitCommitSource | undefined;
    try {
      // Another replica may have processed the commit: this one's mirror is then fetched first.
      let gitDir = this.o.mirrors.of(repo).gitDir;
      if (!(await commitExists(gitDir, sha).catch(() => false))) gitDir = await this.o.mirrors.fetch(repo);
      source = new GitCommitSource(gitDir, sha, repo.path ?? "");
      objects = (await loadRepository(source, loadOptions(this.o.load))).objects;
    } catch (e) {
      this.o.onWarning?.(`drift check of ${repo.name}: cannot read ${sha.slice(0, 7)}: ${String(e)}`);
      return undefined;
    } finally {
      source?.close(); // its git cat-file process
    }
    this.loaded.set(repo.name, { sha, objects });
    return objects;
  }

  private async checkObject(repo: Repository, sha: string, o: LoadedObject): Promise<DriftRecord | undefined> {
    const { store, clock } = this.o;
    // A deployment in flight owns the service: what runs is on its way somewhere, so it is neither judged nor touched.
    const latest = await store.latestDeployment(o.name, repo.name);
    if (latest && latest.finishedAt === null) return undefined;
    const { region, cluster } = o.identity!;
    // A rainbow object runs as the commit's version, a service of its own (config/rainbow.ts).
    const rainbow = o.depdef.rainbow;
    const version = rainbow ? (rainbow.version ?? versionFromCommit(sha)) : undefined;
    const service = version !== undefined ? versionServiceName(o.identity!.service, version) : o.identity!.service;
    const prev = await store.getDrift(repo.name, o.name);
    let status: DriftStatus;
    let detail: DriftRecord["detail"];
    try {
      const ports = this.o.aws(region);
      const live = (await this.o.sweep.status(ports, cluster, service)).service;
      if (!live || live.status !== "ACTIVE") {
        status = "missing";
        detail = { reasons: [`the service ${service} does not run in ${region}/${cluster}`], service: { changed: true, text: "" }, taskDefinition: { changed: false, text: "" } };
      } else if (version !== undefined) {
        // A version is never changed in place (a change deploys a new one) and its count follows
        // the cutovers: that it runs is what Git asks of it, as plan says.
        status = "in-sync";
        detail = { reasons: [`version ${version} runs as service ${service}`], service: { changed: false, text: "" }, taskDefinition: { changed: false, text: "" } };
      } else {
        const taskDefinition = await this.taskDefinition(ports, live);
        const plan = planFromLive(o, { service: live, ...(taskDefinition ? { taskDefinition } : {}) }, this.o.secretNames ?? []);
        status = plan.action === "none" ? "in-sync" : plan.action === "create" ? "missing" : "drifted";
        detail = { reasons: plan.reasons, service: { changed: plan.service.changed, text: plan.service.text }, taskDefinition: { changed: plan.taskDefinition.changed, text: plan.taskDefinition.text } };
      }
    } catch (e) {
      status = "unknown";
      detail = { reasons: [], service: { changed: false, text: "" }, taskDefinition: { changed: false, text: "" }, message: `not compared: ${e instanceof AwsError ? e.toString() : String(e)}` };
    }
    const drifted = DRIFTED.has(status);
    const wasDrifted = prev !== undefined && DRIFTED.has(prev.status);
    const sameDrift = wasDrifted && prev.sha === sha;
    const record: NewDriftRecord = {
      repository: repo.name,
      object: o.name,
      sha,
      region,
      cluster,
      service,
      status,
      detail,
      detectedAt: drifted ? (wasDrifted ? prev.detectedAt : clock.now()) : status === "unknown" ? (prev?.detectedAt ?? null) : null,
      healDeploymentId: drifted && sameDrift ? prev.healDeploymentId : null,
      healedAt: drifted && sameDrift ? prev.healedAt : null,
    };
    const at = { repository: repo.name, object: o.name, sha };
    if (drifted && !wasDrifted) await this.o.record({ ...at, type: "drift-detected", message: `${o.name} has drifted from ${repo.name}@${sha.slice(0, 7)}: ${summary(detail.reasons)}`, data: { status, reasons: detail.reasons } });
    if (status === "in-sync" && wasDrifted) await this.o.record({ ...at, type: "drift-resolved", message: `${o.name} matches ${repo.name}@${sha.slice(0, 7)} again`, data: { healDeploymentId: prev.healDeploymentId } });
    if (drifted && this.selfHeals(repo, o)) Object.assign(record, await this.heal(repo, sha, o, record, prev));
    return store.putDrift(record);
  }

  private selfHeals(repo: Repository, o: LoadedObject): boolean {
    return o.depdef.selfHeal ?? (this.o.selfHealRepositories ?? []).includes(repo.name);
  }

  /** Redeploy a drifted object, unless its last heal of this commit failed or a sync window holds it. */
  private async heal(repo: Repository, sha: string, o: LoadedObject, record: NewDriftRecord, prev: DriftRecord | undefined): Promise<Partial<NewDriftRecord>> {
    const at = { repository: repo.name, object: o.name, sha };
    if (record.healDeploymentId) {
      const last = await this.o.store.getDeployment(record.healDeploymentId);
      if (last && FAILED_ENDS.has(last.phase)) {
        const message = `self-heal deployment ${last.id} ended ${last.phase}; not retried for this commit: fix it by hand or push a commit`;
        if (!prev?.detail.message?.startsWith("self-heal deployment")) await this.o.record({ ...at, type: "drift-heal-failed", message: `${o.name}: ${message}`, data: { deploymentId: last.id, phase: last.phase } });
        return { detail: { ...record.detail, message } };
      }
    }
    if (o.depdef.rainbow) {
      // A version's name is taken while its target group and rule remain: a deployment under it is
      // refused (VersionExists), so a heal could only fail. Drift is reported; a person decides.
      const message = "self-heal does not redeploy a rainbow version: push a commit with a new version, or clean this one up";
      if (prev?.detail.message !== message) await this.o.record({ ...at, type: "drift-heal-held", message: `${o.name}: ${message}`, data: { windows: [] } });
      return { detail: { ...record.detail, message } };
    }
    const verdict = this.o.windows?.verdict(windowSubjects(repo.name, [{ object: o.name, identity: o.identity, loaded: o }]), this.o.clock.now());
    if (verdict?.held) {
      const message = `self-heal waits: ${verdict.message}`;
      if (prev?.detail.message !== message) await this.o.record({ ...at, type: "drift-heal-held", message: `${o.name}: ${message}`, data: { windows: verdict.windows.map((w) => w.name) } });
      return { detail: { ...record.detail, message } };
    }
    // What the redeploy needs must exist, as for a commit's deployment (pass.ts's pre-check):
    // otherwise it waits, and each later check tries again.
    const blocking = (await precheck(o, new PassLookups(this.o.aws))).filter((p) => p.severity === "error");
    if (blocking.length) {
      const message = `self-heal waits: what it needs is missing in AWS: ${problemLine(blocking[0]!)}`;
      if (prev?.detail.message !== message) await this.o.record({ ...at, type: "drift-heal-held", message: `${o.name}: ${message}`, data: { windows: [], problems: blocking.map((p) => ({ code: p.code, file: p.file ?? null, path: p.path ?? null })) } });
      return { detail: { ...record.detail, message } };
    }
    const d = await this.o.heal(repo, o, sha, record.detail.reasons);
    if (!d) return {};
    await this.o.record({ ...at, type: "drift-healed", message: `${o.name} redeployed from ${repo.name}@${sha.slice(0, 7)} to undo drift (${summary(record.detail.reasons)}): deployment ${d.id}`, data: { deploymentId: d.id, reasons: record.detail.reasons } });
    return { healDeploymentId: d.id, healedAt: this.o.clock.now() };
  }

  /** The task definition a live service runs (a blue/green service's primary task set's), described once per revision. */
  private async taskDefinition(ports: ReturnType<AwsPortsFactory>, live: Service): Promise<TaskDefinition | undefined> {
    const arn = live.taskDefinition || live.taskSets.find((t) => t.status === "PRIMARY")?.taskDefinition;
    if (!arn) return undefined;
    const key = `${ports.region}\u0000${arn}`;
    const known = this.taskDefinitions.get(key);
    if (known !== undefined) return known ?? undefined;
    try {
      const td = await ports.ecs.describeTaskDefinition(arn);
      this.taskDefinitions.set(key, td);
      return td;
    } catch (e) {
      // A revision deleted since: the plan shows the whole task definition as added.
      if (e instanceof AwsError && e.name === "ClientException") {
        this.taskDefinitions.set(key, null);
        return undefined;
      }
      throw e;
    }
  }
}

function summary(reasons: readonly string[]): string {
  return reasons.length === 0 ? "differs" : reasons.length <= 3 ? reasons.join("; ") : `${reasons.slice(0, 3).join("; ")} and ${reasons.length - 3} more`;
}
