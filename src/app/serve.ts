/**
 * `flotilla serve` put together on an engine: the server's log (JSON lines, the secrets it holds
 * kept out), the events bus, notifications and GitHub commit statuses, the controller, and the HTTP
 * API with the GitHub webhook route. The CLI verb reads its flags and configuration, opens the
 * engine (app/open.ts) and waits for a signal; everything between is built here.
 */
import { operatorEnvironment } from "../config/inputs.ts";
import { readFile } from "node:fs/promises";
import os from "node:os";
import type { FastifyInstance } from "fastify";
import { GithubStatusReporter } from "../controller/commit-status.ts";
import { SyncWindows } from "../controller/sync-windows.ts";
import { processOwnerId } from "../deploy/runner.ts";
import type { Controller } from "../controller/controller.ts";
import type { Concurrency } from "../controller/pacing.ts";
import { QuietWatch, reportLine } from "../controller/quiet.ts";
import type { ServerConfig } from "../controller/server-config.ts";
import { Masker } from "../core/mask.ts";
import { isFlotillaError } from "../core/problems.ts";
import { DeploymentEventBus } from "../server/events.ts";
import { createLogger, secretValues, type Logger } from "../server/log.ts";
import type { PromMetrics } from "../server/metrics.ts";
import { buildServer } from "../server/server.ts";
import { registerGithubWebhook } from "../server/webhook.ts";
import type { Store } from "../store/store.ts";
import type { Engine } from "./engine.ts";

export interface ServerRun {
  /** The engine to serve (its AWS calls already report to `metrics`). */
  engine: Engine;
  config: ServerConfig;
  /** The address to listen on, from `config.listen`. */
  host: string;
  port: number;
  metrics: PromMetrics;
  /** The server's environment: the webhook secret, the admin token, credentials and notification headers come from it. */
  env: NodeJS.ProcessEnv;
  /** Where the JSON log lines go (standard error). */
  logTo: { write(line: string): void };
  /** Deployments of one commit running at once (`auto`: as fast as ECS's request rates take them). */
  concurrency: Concurrency;
  allowDelete: boolean;
  maxDeleteFraction: number;
  /** On the simulator (said in the first log line). */
  simulator: boolean;
  /** Notification targets came from the deprecated --notify flag. */
  deprecatedNotify?: boolean;
  /** How long this replica's leases last unless renewed, and how often it renews them (docs/store.md, "Several replicas"). */
  leaseTtlMs?: number;
  heartbeatMs?: number;
}

export interface RunningServer {
  app: FastifyInstance;
  controller: Controller;
  log: Logger;
  /**
   * Stop taking work, hand the deployments in flight over (each stops at its next safe point and is
   * released for another replica, or the next start, to adopt at once) and close the API.
   */
  stop(withinMs?: number): Promise<void>;
}

const BAD_ENDINGS = new Set(["Failed", "RolledBack", "Aborted"]);
/** How often (the engine clock's time) serve looks for deployments that have been quiet for a minute. */
const QUIET_LOOK_MS = 5_000;
const ADMIN = "admin";

/** Build the server on the engine, listen, and start the controller. */
export async function startServer(run: ServerRun): Promise<RunningServer> {
  const { engine, config, metrics, env } = run;
  const masker = new Masker({ secretNames: config.masking.secretNames });
  const secret = env[config.webhookSecretEnv];
  const adminToken = env[config.adminTokenEnv];
  // JSON lines on stderr; the values this server holds never appear in them (server/log.ts).
  const log = createLogger({ level: config.logLevel, clock: engine.clock, masker, destination: run.logTo, secrets: await serverSecrets(env, config, [secret, adminToken]) });
  const events = new DeploymentEventBus();
  if (run.deprecatedNotify) log.warn("--notify is deprecated; list the targets under notifications.targets in the --config file");
  // Depdef targets reach only what the configuration's notifications section allows (nothing by default).
  const { targets, ...notificationPolicy } = config.notifications;
  const notifier = engine.notifier({
    env,
    targets,
    policy: notificationPolicy,
    ownAddresses: [run.host],
    masker,
    record: async (id, event) => {
      await engine.store.appendEvents(id, [event]);
      events.notify(id);
    },
    onWarning: (m) => log.warn(m),
  });
  // Commit statuses on GitHub, when the configuration names an API and its token's credential.
  const statuses = config.github
    ? new GithubStatusReporter({ clock: engine.clock, config: config.github, credential: config.credentials[config.github.credential]!, ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}), env, masker, onWarning: (m, code) => log.warn({ code }, m) })
    : undefined;
  // A deployment that waits without news gets a line a minute (one summary for all when many wait), from the records the runner persists.
  const quiet = new QuietWatch({ clock: engine.clock, drives: (id) => controller.runner.ownership.holds(id) });
  // Unique per start: a restarted replica is a new owner, with new fencing tokens.
  const owner = processOwnerId(config.replica ?? `${os.hostname()}-${process.pid}`);
  const controller = engine.controller({
    dataDir: config.dataDir,
    holder: owner,
    ...(run.leaseTtlMs !== undefined ? { leaseTtlMs: run.leaseTtlMs } : {}),
    ...(run.heartbeatMs !== undefined ? { heartbeatMs: run.heartbeatMs } : {}),
    policy: config,
    secretNames: config.masking.secretNames,
    inputEnvironment: operatorEnvironment(env, config.inputs.allowedEnv),
    ...(secret ? { webhookSecret: secret } : {}),
    concurrency: run.concurrency,
    allowDelete: run.allowDelete,
    maxDeleteFraction: run.maxDeleteFraction,
    metrics,
    ...(statuses ? { statuses } : {}),
    ...(config.syncWindows.length ? { syncWindows: new SyncWindows(config.syncWindows) } : {}),
    ...(config.drift.enabled ? { drift: { intervalMs: config.drift.intervalMs, selfHealRepositories: config.drift.selfHealRepositories } } : {}),
    // Overrides of sync windows are audit lines, like the API's changes; the rest is information.
    onActivity: (a) => {
      const by = typeof a.data?.["setBy"] === "string" ? a.data["setBy"] : null;
      if (a.type === "window-override") log.info({ audit: { action: "window.override", by, source: a.data?.["source"] ?? null, target: { repository: a.repository, commit: a.sha }, outcome: "ok" } }, `audit window.override ok: ${a.message}`);
      else log.info({ activity: { type: a.type, repository: a.repository, object: a.object, sha: a.sha } }, a.message);
    },
    onUpdate: (d, evs) => {
      events.notify(d.id);
      notifier.onUpdate(d, evs);
      quiet.seen(d, evs);
      if (d.finishedAt !== null && evs.some((e) => e.type === d.phase)) metrics.deploymentFinished(d);
      for (const e of evs) log[BAD_ENDINGS.has(e.type) ? "warn" : "info"]({ deployment: d.id, object: d.object, event: e.type }, `${d.object} ${e.type}: ${e.message}`);
    },
    onSourceEvent: (e) => {
      if (e.type === "commit-processed") metrics.setQueueDepth(controller.sources.queue.depth(e.repository), e.repository);
      log[e.type === "sync-failed" || e.type === "rewritten" || e.type === "lease-lost" ? "warn" : "info"]({ source: e }, `source ${e.type}: ${e.repository}`);
    },
    onWarning: (m) => log.warn(m),
  });
  if (adminToken) await installAdminToken(engine.store, adminToken);
  const app = buildServer({ store: engine.store, clock: engine.clock, controller, metrics, events, masker, policy: config, options: { log, bodyLimit: config.http.bodyLimit } });
  registerGithubWebhook(app, controller.sources.webhooks, { bodyLimit: config.http.webhookBodyLimit });
  await app.listen({ host: run.host, port: run.port });
  const address = app.server.address();
  const where = typeof address === "object" && address ? `${address.address}:${address.port}` : config.listen;
  controller.start();
  quiet.start(QUIET_LOOK_MS, (r) => {
    const { fields, message } = reportLine(r, quiet.summaryAbove);
    log.info(fields, message);
  });
  log.info(
    {
      listen: where,
      config: config.file ?? null,
      simulator: run.simulator,
      webhooks: Boolean(secret),
      adminToken: Boolean(adminToken),
      commitStatuses: Boolean(statuses),
      syncWindows: config.syncWindows.length,
      drift: config.drift.enabled ? { intervalSeconds: config.drift.intervalMs / 1000, selfHeal: config.drift.selfHealRepositories } : false,
      owner,
      leaseTtlSeconds: controller.runner.ownership.ttlMs / 1000,
      heartbeatSeconds: controller.runner.ownership.heartbeatMs / 1000,
    },
    `flotilla serve: API on http://${where}${run.simulator ? " (simulator)" : ""}; ${secret ? "GitHub webhooks on /webhooks/github" : `webhooks off (set ${config.webhookSecretEnv})`}; ${adminToken ? "admin token ready" : `no admin token (set ${config.adminTokenEnv} or create tokens in the store)`}`,
  );
  return {
    app,
    controller,
    log,
    async stop(withinMs) {
      log.info(`stopping: no new work; deployments in flight are handed over to another replica (or the next start)${withinMs !== undefined ? `, within ${withinMs / 1000} s` : ""}`);
      await quiet.stop();
      await controller.stop();
      log.info("deployments handed over; closing");
      await app.close();
      await notifier.drain();
      await statuses?.drain();
    },
  };
}

/**
 * The secret values this server holds, to keep out of its log: the webhook secret, the admin token,
 * the credentials' tokens (variables and files), the variables notification headers may use, and any
 * environment value whose name looks secret.
 */
async function serverSecrets(env: NodeJS.ProcessEnv, config: ServerConfig, held: (string | undefined)[]): Promise<string[]> {
  // The values inputs may read stay out of the log too (a rendered message may quote one).
  const inputs = operatorEnvironment(env, config.inputs.allowedEnv);
  const inputValues = Object.keys(env).filter((k) => inputs.allowed(k)).map((k) => env[k]);
  const named: (string | undefined)[] = [...held, ...config.notifications.allowedEnv.map((v) => env[v]), ...inputValues];
  for (const c of Object.values(config.credentials)) {
    if (c.type === "token-env") named.push(env[c.env]);
    if (c.type === "token-file") named.push(await readFile(c.file, "utf8").then((t) => t.split(/\r?\n/)[0]?.trim(), () => undefined));
  }
  return secretValues(env, named);
}

/**
 * The admin token from the environment replaces the stored one at every start: rotating it is
 * restarting with a new value, and the old value stops working at once (also when another replica
 * still has it in its environment: the last to start wins).
 */
async function installAdminToken(store: Store, token: string): Promise<void> {
  const existing = (await store.listTokens()).find((t) => t.name === ADMIN);
  if (existing?.role === "operator") {
    await store.rotateToken(ADMIN, token);
    return;
  }
  if (existing) await store.revokeToken(ADMIN);
  try {
    await store.createToken(ADMIN, "operator", token);
  } catch (e) {
    // Another replica starting at the same moment created it first: take it over.
    if (!(isFlotillaError(e) && e.code === "FLT-STORE-DUPLICATE" && (await store.listTokens()).some((t) => t.name === ADMIN))) throw e;
    await store.rotateToken(ADMIN, token);
  }
}
