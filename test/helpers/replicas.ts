/**
 * A fleet of real processes for the replica tests: one `flotilla sim serve` (the AWS endpoint that
 * outlives the replicas), `flotilla serve` replicas sharing one store (a SQLite file, or a fresh
 * PostgreSQL database), and a Git remote they watch. Each replica talks to the simulator with its
 * own access key, so the simulator's request log names the replica behind every AWS call; its owner
 * id (the `owner` of the deployments it drives) starts with the same name.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import * as ecs from "@aws-sdk/client-ecs";
import * as elb from "@aws-sdk/client-elastic-load-balancing-v2";
import { openStore } from "../../src/store/index.ts";
import type { Store } from "../../src/store/store.ts";
import type { Deployment, DeploymentEvent } from "../../src/store/types.ts";
import { TestRemote } from "./git-remote.ts";
import { startServe, type ServeProcess } from "./serve.ts";
import { startSimServe, type SimServeProcess } from "./sim-serve.ts";

export interface FleetOptions {
  /** `postgres`: a fresh database on FLOTILLA_TEST_POSTGRES_URL's server; else a SQLite file. */
  store: "sqlite" | "postgres";
  /** Simulated seconds per real second in `sim serve`. */
  speed: number;
  /** Blue/green and rolling services, one object each (`apps/NAME/NAME`). */
  bluegreen: string[];
  rolling: string[];
  /** Lease TTL and heartbeat of the replicas, in seconds. */
  ttl: number;
  heartbeat: number;
  /** The canary's wait (seconds of real time: the replicas run on the wall clock). */
  canaryWait?: number;
  /** Repositories: the services split round-robin over this many (default 1). */
  repositories?: number;
  /** The simulator's injected faults (the scenario's `faults`: API latency, errors). */
  faults?: object;
}

export interface RequestRecord {
  seq: number;
  wallTime: string;
  receivedAt?: string;
  service: string;
  operation: string;
  caller: string;
  status: number;
  resource?: string;
  input?: Record<string, unknown>;
}

export const MUTATIONS = new Set(["RegisterTaskDefinition", "CreateService", "UpdateService", "DeleteService", "CreateTaskSet", "UpdateTaskSet", "DeleteTaskSet", "UpdateServicePrimaryTaskSet", "ModifyListener", "ModifyRule"]);

export class Fleet {
  readonly options: FleetOptions;
  readonly sim: SimServeProcess;
  readonly store: Store;
  readonly storeLocation: string;
  readonly remotes: TestRemote[];
  /** Target group ARNs by name, listener ARNs by blue/green service. */
  readonly tg: Map<string, string>;
  readonly listenerOf: Map<string, string>;
  readonly replicas = new Map<string, ServeProcess>();
  private readonly root: string;
  private readonly dropDatabase: (() => Promise<void>) | undefined;

  private constructor(init: { options: FleetOptions; sim: SimServeProcess; store: Store; storeLocation: string; remotes: TestRemote[]; tg: Map<string, string>; listenerOf: Map<string, string>; root: string; dropDatabase?: () => Promise<void> }) {
    this.options = init.options;
    this.sim = init.sim;
    this.store = init.store;
    this.storeLocation = init.storeLocation;
    this.remotes = init.remotes;
    this.tg = init.tg;
    this.listenerOf = init.listenerOf;
    this.root = init.root;
    this.dropDatabase = init.dropDatabase;
  }

  static async start(options: FleetOptions): Promise<Fleet> {
    const root = mkdtempSync(path.join(tmpdir(), "flotilla-fleet-"));
    const scenario = {
      throttling: false,
      clusters: ["apps"],
      targetGroups: options.bluegreen.flatMap((s) => [`${s}-blue`, `${s}-green`]).map((name) => ({ name, port: 8080, healthCheck: { intervalSeconds: 5, healthyThreshold: 2 }, deregistrationDelaySeconds: 5 })),
      loadBalancers: [
        {
          name: "public",
          listeners: options.bluegreen.map((s, i) => ({ port: 8000 + i, protocol: "HTTP", defaultActions: [{ type: "forward", targetGroups: [{ targetGroup: `${s}-blue`, weight: 100 }, { targetGroup: `${s}-green`, weight: 0 }] }] })),
        },
      ],
      alarms: [{ name: "apps-5xx" }],
      ...(options.faults ? { faults: options.faults } : {}),
    };
    writeFileSync(path.join(root, "scenario.json"), JSON.stringify(scenario));
    const sim = await startSimServe([path.join(root, "scenario.json"), "--speed", String(options.speed)]);
    const cfg = { region: "us-east-1", endpoint: sim.url, credentials: { accessKeyId: "fleet-test", secretAccessKey: "x" } };
    const tg = new Map<string, string>();
    for (const g of (await new elb.ElasticLoadBalancingV2Client(cfg).send(new elb.DescribeTargetGroupsCommand({}))).TargetGroups ?? []) tg.set(g.TargetGroupName!, g.TargetGroupArn!);
    const lb = (await new elb.ElasticLoadBalancingV2Client(cfg).send(new elb.DescribeLoadBalancersCommand({ Names: ["public"] }))).LoadBalancers![0]!.LoadBalancerArn!;
    const listeners = (await new elb.ElasticLoadBalancingV2Client(cfg).send(new elb.DescribeListenersCommand({ LoadBalancerArn: lb }))).Listeners ?? [];
    const listenerOf = new Map<string, string>();
    options.bluegreen.forEach((s, i) => listenerOf.set(s, listeners.find((l) => l.Port === 8000 + i)!.ListenerArn!));

    let storeLocation = path.join(root, "flotilla.db");
    let dropDatabase: (() => Promise<void>) | undefined;
    if (options.store === "postgres") {
      const base = process.env["FLOTILLA_TEST_POSTGRES_URL"];
      if (!base) throw new Error("FLOTILLA_TEST_POSTGRES_URL is not set");
      const db = `flotilla_fleet_${randomBytes(5).toString("hex")}`;
      const admin = new pg.Client({ connectionString: base });
      await admin.connect();
      await admin.query(`create database ${db}`);
      await admin.end();
      const url = new URL(base);
      url.pathname = `/${db}`;
      storeLocation = url.toString();
      dropDatabase = async () => {
        const c = new pg.Client({ connectionString: base });
        await c.connect();
        await c.query(`drop database if exists ${db} with (force)`).catch(() => undefined);
        await c.end();
      };
    }
    const store = await openStore({ location: storeLocation });
    const remotes = Array.from({ length: options.repositories ?? 1 }, () => new TestRemote());
    const fleet = new Fleet({ options, sim, store, storeLocation, remotes, tg, listenerOf, root, ...(dropDatabase ? { dropDatabase } : {}) });
    writeFileSync(path.join(root, "flotilla.yaml"), `allowedLocalRoots: [${JSON.stringify(path.dirname(path.dirname(remotes[0]!.bare)))}]\n`);
    return fleet;
  }

  /** The repository a service's object lives in. */
  repositoryOf(service: string): number {
    const all = [...this.options.bluegreen, ...this.options.rolling];
    return all.indexOf(service) % this.remotes.length;
  }

  /** Every object's files at `version`, per repository (`canaryWait` overrides the fleet's). */
  files(version: string, canaryWait = this.options.canaryWait ?? 1): Record<string, object>[] {
    const out: Record<string, object>[] = this.remotes.map(() => ({}));
    const quick = { pollInterval: 1, timeout: 600 };
    for (const s of this.options.bluegreen) {
      out[this.repositoryOf(s)]![`apps/${s}/${s}_svcdef.json`] = { cluster: "apps", serviceName: s, desiredCount: 2, deploymentController: { type: "EXTERNAL" }, launchType: "EC2", loadBalancers: [{ targetGroupArn: this.tg.get(`${s}-blue`), containerName: "app", containerPort: 8080 }] };
      out[this.repositoryOf(s)]![`apps/${s}/${s}_taskdef.json`] = taskdef(s, version);
      out[this.repositoryOf(s)]![`apps/${s}/${s}_depdef.json`] = { stabilityCheck: quick, targetGroupArnPairs: [[this.tg.get(`${s}-blue`), this.tg.get(`${s}-green`)]], trafficShiftingConfig: { type: "CANARY", percent: 20, waitInterval: canaryWait }, alarms: { alarmNames: ["apps-5xx"] } };
    }
    for (const s of this.options.rolling) {
      out[this.repositoryOf(s)]![`apps/${s}/${s}_svcdef.json`] = { cluster: "apps", serviceName: s, desiredCount: 2, launchType: "EC2", deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 } };
      out[this.repositoryOf(s)]![`apps/${s}/${s}_taskdef.json`] = taskdef(s, version);
      out[this.repositoryOf(s)]![`apps/${s}/${s}_depdef.json`] = { stabilityCheck: quick };
    }
    return out;
  }

  /** Push every object at `version` to its repository; returns the commit of each repository. */
  push(version: string, canaryWait?: number): string[] {
    const files = this.files(version, canaryWait);
    return this.remotes.map((r, i) => r.push(files[i]!, `version ${version}`));
  }

  /** Register the repositories (polled every second). */
  async register(): Promise<void> {
    for (const [i, r] of this.remotes.entries()) await this.store.addRepository({ name: `apps${i}`, url: r.bare, branch: "main", pollIntervalSeconds: 1 });
  }

  /** Start a replica named `name` (its access key, its replica name). */
  async startReplica(name: string, extra: string[] = []): Promise<ServeProcess> {
    const dataDir = mkdtempSync(path.join(this.root, `${name}-`));
    const p = await startServe(
      ["--store", this.storeLocation, "--config", path.join(this.root, "flotilla.yaml"), "--data-dir", dataDir, "--replica", name, "--lease-ttl", String(this.options.ttl), "--heartbeat", String(this.options.heartbeat), "--concurrency", "16", ...extra],
      { cwd: this.root, env: { ...this.sim.awsEnv(name), FLOTILLA_LOG_LEVEL: "info" } },
    );
    this.replicas.set(name, p);
    return p;
  }

  /** Every request the simulator answered (with inputs). */
  async requests(): Promise<RequestRecord[]> {
    const out: RequestRecord[] = [];
    for (let since = 0; ; ) {
      const page = (await (await fetch(`${this.sim.url}/_flotilla/requests?inputs=1&since=${since}&limit=5000`)).json()) as { requests: RequestRecord[] };
      if (page.requests.length === 0) return out;
      out.push(...page.requests);
      since = page.requests.at(-1)!.seq;
    }
  }

  /** All deployments, oldest first. */
  async deployments(): Promise<Deployment[]> {
    const all: Deployment[] = [];
    for (let before: string | undefined; ; ) {
      const page = await this.store.listDeployments({ limit: 500, ...(before ? { before } : {}) });
      all.push(...page.items);
      if (!page.nextCursor) return all.reverse();
      before = page.nextCursor;
    }
  }

  /** Poll until `check` answers a value (not undefined), every 200 ms; throws after `timeoutMs` with `what`. */
  async until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await check();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${await this.diagnosis()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** What a failed wait shows: every deployment and the end of each replica's log. */
  async diagnosis(): Promise<string> {
    const lines = (await this.deployments()).map((d) => `${d.id} ${d.object}@${d.commitSha?.slice(0, 7)} ${d.phase} owner=${d.owner?.id}/${d.owner?.token} ${d.reason ?? ""} ${d.message ?? ""}`);
    for (const [name, r] of this.replicas) lines.push(`--- ${name} (exit ${r.child.exitCode ?? r.child.signalCode ?? "running"})`, ...r.stderr().trim().split("\n").slice(-15));
    return lines.join("\n");
  }

  ecs(): ecs.ECSClient {
    return new ecs.ECSClient({ region: "us-east-1", endpoint: this.sim.url, credentials: { accessKeyId: "fleet-test", secretAccessKey: "x" } });
  }

  elb(): elb.ElasticLoadBalancingV2Client {
    return new elb.ElasticLoadBalancingV2Client({ region: "us-east-1", endpoint: this.sim.url, credentials: { accessKeyId: "fleet-test", secretAccessKey: "x" } });
  }

  async close(): Promise<void> {
    for (const r of this.replicas.values()) await r.stop("SIGKILL");
    await this.sim.stop("SIGKILL");
    await this.store.close();
    await this.dropDatabase?.();
    for (const r of this.remotes) r.cleanup();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * The replicas run on the wall clock: a container health check every 5 s (ECS's shortest) keeps
 * the stability dwell (which follows the health checks' interval) at 5 s of real time.
 */
function taskdef(family: string, version: string): object {
  const healthCheck = { command: ["CMD-SHELL", "exit 0"], interval: 5, timeout: 2, retries: 1, startPeriod: 0 };
  return { family, containerDefinitions: [{ name: "app", image: `example/${family}:${version}`, memory: 128, essential: true, portMappings: [{ containerPort: 8080 }], healthCheck }] };
}

/**
 * Who owned a deployment when: one period per fencing token, from the creation or the adoption to
 * the next adoption's view of the lease's end (or the deployment's end).
 */
export interface OwnerPeriod {
  owner: string;
  token: number;
  from: number;
  to: number;
}

export function ownerPeriods(d: Deployment, events: readonly DeploymentEvent[]): OwnerPeriod[] {
  type Adoption = { owner: string; token: number; previous: { id: string; token: number; expiresAt: number } | null };
  const adoptions = events.filter((e) => e.type === "Adopted").map((e) => ({ at: e.at, data: e.data as Adoption }));
  const first = adoptions[0]?.data.previous ?? (d.owner ? { id: d.owner.id, token: 1 } : undefined);
  const periods: OwnerPeriod[] = [];
  let current: OwnerPeriod | undefined = first && { owner: first.id, token: first.token, from: d.createdAt, to: Infinity };
  for (const a of adoptions) {
    if (current) periods.push({ ...current, to: Math.min(a.data.previous?.expiresAt ?? a.at, a.at) });
    current = { owner: a.data.owner, token: a.data.token, from: a.at, to: Infinity };
  }
  if (current) periods.push({ ...current, to: d.finishedAt ?? Infinity });
  return periods;
}
