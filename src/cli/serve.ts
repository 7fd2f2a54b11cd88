/**
 * `flotilla serve`: the GitOps controller as a long-running process — Git sources (poller and
 * GitHub webhooks), the deployment engine, and the HTTP API (docs/api.md) — on AWS or, with
 * `--simulator`, on the built-in simulator. SIGTERM/SIGINT stop taking work, close the API and exit;
 * deployments in flight keep their persisted state and resume on the next start.
 */
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Controller } from "../controller/controller.ts";
import { GithubStatusReporter } from "../controller/commit-status.ts";
import { Notifier } from "../controller/notifications.ts";
import { defaultServerConfig, loadServerConfig, ServerConfigError, type ServerConfig } from "../controller/server-config.ts";
import { Masker } from "../core/mask.ts";
import { FlotillaError, isFlotillaError } from "../core/problems.ts";
import { buildServer, createMetrics, DeploymentEventBus } from "../server/index.ts";
import type { Store } from "../store/store.ts";
import { createLogger, secretValues } from "../server/log.ts";
import { registerGithubWebhook } from "../server/webhook.ts";
import { addAwsOptions, openContext, type AwsOptions } from "./context.ts";
import { EXIT, parseListen, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { formatProblem } from "./output.ts";
import { DEFAULT_CONCURRENCY, parseConcurrency } from "../controller/pacing.ts";

interface ServeFlags extends AwsOptions {
  config?: string;
  listen?: string;
  dataDir?: string;
  replica?: string;
  webhookSecretEnv?: string;
  adminTokenEnv?: string;
  allowDelete: boolean;
  maxDeleteFraction: string;
  concurrency: string;
  notify?: string[];
}

export const register: RegisterCommand = (program, io, run) => {
  addAwsOptions(
    program
      .command("serve")
      .description("run the GitOps controller: watch registered repositories, deploy each new commit, serve the API")
      .option("--config <file>", "the server configuration (YAML or JSON): named credentials, allowed repository locations, notifications; see docs/security.md")
      .option("--listen <host:port>", "address of the HTTP API (overrides the configuration; default 127.0.0.1:8080)")
      .option("--data-dir <dir>", "where Git mirrors are kept (overrides the configuration; default .flotilla)")
      .option("--replica <name>", "this replica's name, for leases (default: host name and pid)")
      .option("--webhook-secret-env <name>", "environment variable holding the GitHub webhook secret (default FLOTILLA_WEBHOOK_SECRET)")
      .option("--admin-token-env <name>", "environment variable holding the operator API token named admin (default FLOTILLA_ADMIN_TOKEN)")
      .option("--allow-delete", "delete services whose svcdef was removed (also the deletes held back while it was off)", false)
      .option("--max-delete-fraction <f>", "refuse a commit deleting more than this fraction of a repository's services", "0.5")
      .option("--concurrency <n|auto>", "deployments of one commit running at once; auto: started as fast as ECS's request rates take them, no cap", String(DEFAULT_CONCURRENCY))
      .option("--notify <url...>", "deprecated: webhook URLs notified of every deployment; use notifications.targets in --config"),
  ).action((flags: ServeFlags) => run(() => serve(io, flags)));
};

/** The configuration file (or the defaults), with the flags given on the command line over it. */
async function serverConfig(io: CliIO, flags: ServeFlags): Promise<ServerConfig> {
  let config: ServerConfig;
  try {
    config = flags.config ? await loadServerConfig(flags.config, io.cwd) : defaultServerConfig(io.cwd);
  } catch (e) {
    if (!(e instanceof ServerConfigError) || e.problems.length < 2) throw e;
    for (const p of e.problems) io.err(formatProblem(io, p) + "\n");
    throw new FlotillaError({ code: "FLT-SERVER-CONFIG", file: flags.config, message: `${e.problems.length} problems in the server configuration; the server did not start` });
  }
  return {
    ...config,
    ...(flags.listen !== undefined ? { listen: flags.listen } : {}),
    ...(flags.dataDir !== undefined ? { dataDir: path.resolve(io.cwd, flags.dataDir) } : {}),
    ...(flags.replica !== undefined ? { replica: flags.replica } : {}),
    ...(flags.webhookSecretEnv !== undefined ? { webhookSecretEnv: flags.webhookSecretEnv } : {}),
    ...(flags.adminTokenEnv !== undefined ? { adminTokenEnv: flags.adminTokenEnv } : {}),
    notifications: { ...config.notifications, targets: [...config.notifications.targets, ...(flags.notify ?? []).map((url) => ({ url }))] },
  };
}

const BAD_ENDINGS = new Set(["Failed", "RolledBack", "Aborted"]);
const ADMIN = "admin";

/**
 * The secret values this server holds, to keep out of its log: the webhook secret, the admin token,
 * the credentials' tokens (variables and files), the variables notification headers may use, and any
 * environment value whose name looks secret.
 */
async function serverSecrets(env: NodeJS.ProcessEnv, config: ServerConfig, held: (string | undefined)[]): Promise<string[]> {
  const named: (string | undefined)[] = [...held, ...config.notifications.allowedEnv.map((v) => env[v])];
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

async function serve(io: CliIO, flags: ServeFlags): Promise<number> {
  const config = await serverConfig(io, flags);
  const { host, port } = parseListen(config.listen);
  // A server runs in real time; on the simulator too, unless sped up with --speed.
  const metrics = createMetrics();
  const ctx = await openContext(io, { ...flags, ...(flags.simulator !== undefined && !flags.speed ? { speed: "1" } : {}) }, (service, operation, throttled) => metrics.awsCall(service, operation, throttled));
  const masker = new Masker({ secretNames: config.masking.secretNames });
  const secret = io.env[config.webhookSecretEnv];
  const adminToken = io.env[config.adminTokenEnv];
  // JSON lines on stderr; the values this server holds never appear in them (server/log.ts).
  const log = createLogger({ level: config.logLevel, clock: ctx.clock, masker, destination: { write: (line) => io.err(line) }, secrets: await serverSecrets(io.env, config, [secret, adminToken]) });
  const events = new DeploymentEventBus();
  if (flags.notify?.length) log.warn("--notify is deprecated; list the targets under notifications.targets in the --config file");
  // Depdef targets reach only what the configuration's notifications section allows (nothing by default).
  const { targets, ...notificationPolicy } = config.notifications;
  const notifier = new Notifier({
    clock: ctx.clock,
    env: io.env,
    targets,
    policy: notificationPolicy,
    ownAddresses: [host],
    masker,
    record: async (id, event) => {
      await ctx.store.appendEvents(id, [event]);
      events.notify(id);
    },
    onWarning: (m) => log.warn(m),
  });
  // Commit statuses on GitHub, when the configuration names an API and its token's credential.
  const statuses = config.github
    ? new GithubStatusReporter({ clock: ctx.clock, config: config.github, credential: config.credentials[config.github.credential]!, ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}), env: io.env, masker, onWarning: (m, code) => log.warn({ code }, m) })
    : undefined;
  const controller = new Controller({
    store: ctx.store,
    aws: ctx.aws,
    clock: ctx.clock,
    dataDir: config.dataDir,
    holder: config.replica ?? `${os.hostname()}-${process.pid}`,
    policy: config,
    secretNames: config.masking.secretNames,
    ...(secret ? { webhookSecret: secret } : {}),
    concurrency: parseConcurrency(flags.concurrency),
    allowDelete: flags.allowDelete,
    maxDeleteFraction: Number(flags.maxDeleteFraction),
    metrics,
    ...(statuses ? { statuses } : {}),
    onUpdate: (d, evs) => {
      events.notify(d.id);
      notifier.onUpdate(d, evs);
      if (d.finishedAt !== null && evs.some((e) => e.type === d.phase)) metrics.deploymentFinished(d);
      for (const e of evs) log[BAD_ENDINGS.has(e.type) ? "warn" : "info"]({ deployment: d.id, object: d.object, event: e.type }, `${d.object} ${e.type}: ${e.message}`);
    },
    onSourceEvent: (e) => {
      if (e.type === "commit-processed") metrics.setQueueDepth(controller.sources.queue.depth(e.repository), e.repository);
      log[e.type === "sync-failed" || e.type === "rewritten" || e.type === "lease-lost" ? "warn" : "info"]({ source: e }, `source ${e.type}: ${e.repository}`);
    },
    onWarning: (m) => log.warn(m),
  });
  if (adminToken) await installAdminToken(ctx.store, adminToken);
  const app = buildServer({ store: ctx.store, clock: ctx.clock, controller, metrics, events, masker, policy: config, options: { log, bodyLimit: config.http.bodyLimit } });
  registerGithubWebhook(app, controller.sources.webhooks, { bodyLimit: config.http.webhookBodyLimit });
  await app.listen({ host, port });
  const address = app.server.address();
  const where = typeof address === "object" && address ? `${address.address}:${address.port}` : config.listen;
  controller.start();
  log.info(
    { listen: where, config: config.file ?? null, simulator: ctx.simulators.size > 0 || flags.simulator !== undefined, webhooks: Boolean(secret), adminToken: Boolean(adminToken) },
    `flotilla serve: API on http://${where}${ctx.simulators.size || flags.simulator !== undefined ? " (simulator)" : ""}; ${secret ? "GitHub webhooks on /webhooks/github" : `webhooks off (set ${config.webhookSecretEnv})`}; ${adminToken ? "admin token ready" : `no admin token (set ${config.adminTokenEnv} or create tokens in the store)`}`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  log.info("stopping: no new work; deployments in flight resume on the next start");
  await controller.stop();
  await app.close();
  await notifier.drain();
  await statuses?.drain();
  await ctx.close();
  return EXIT.ok;
}
