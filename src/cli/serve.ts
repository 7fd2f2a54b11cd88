/**
 * `flotilla serve`: the GitOps controller as a long-running process — Git sources (poller and
 * GitHub webhooks), the deployment engine, and the HTTP API (docs/api.md) — on AWS or, with
 * `--simulator`, on the built-in simulator. SIGTERM/SIGINT stop taking work, close the API and exit;
 * deployments in flight keep their persisted state and resume on the next start.
 */
import os from "node:os";
import path from "node:path";
import { Controller } from "../controller/controller.ts";
import { Notifier } from "../controller/notifications.ts";
import { defaultServerConfig, loadServerConfig, ServerConfigError, type ServerConfig } from "../controller/server-config.ts";
import { Masker, maskedWriter } from "../core/mask.ts";
import { FlotillaError } from "../core/problems.ts";
import { buildServer, createMetrics, DeploymentEventBus } from "../server/index.ts";
import { registerGithubWebhook } from "../server/webhook.ts";
import { addAwsOptions, openContext, type AwsOptions } from "./context.ts";
import { EXIT, parseListen, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { formatProblem } from "./output.ts";

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
      .option("--allow-delete", "delete services whose svcdef was removed", false)
      .option("--max-delete-fraction <f>", "refuse a commit deleting more than this fraction of a repository's services", "0.5")
      .option("--concurrency <n>", "deployments of one commit running at once", "8")
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

async function serve(io: CliIO, flags: ServeFlags): Promise<number> {
  const config = await serverConfig(io, flags);
  const { host, port } = parseListen(config.listen);
  // A server runs in real time; on the simulator too, unless sped up with --speed.
  const metrics = createMetrics();
  const ctx = await openContext(io, { ...flags, ...(flags.simulator !== undefined && !flags.speed ? { speed: "1" } : {}) }, (service, operation, throttled) => metrics.awsCall(service, operation, throttled));
  // Every line goes through the one masker: a message may quote a URL with a password or a secret-named value.
  const masker = new Masker({ secretNames: config.masking.secretNames });
  const err = maskedWriter((text) => io.err(text), masker);
  const log = (msg: string) => err(`${new Date(ctx.clock.now()).toISOString()} ${msg}\n`);
  const events = new DeploymentEventBus();
  if (flags.notify?.length) log("warning: --notify is deprecated; list the targets under notifications.targets in the --config file");
  const secret = io.env[config.webhookSecretEnv];
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
    onWarning: (m) => log(`warning: ${m}`),
  });
  const controller = new Controller({
    store: ctx.store,
    aws: ctx.aws,
    clock: ctx.clock,
    dataDir: config.dataDir,
    holder: config.replica ?? `${os.hostname()}-${process.pid}`,
    policy: config,
    secretNames: config.masking.secretNames,
    ...(secret ? { webhookSecret: secret } : {}),
    concurrency: Math.max(1, Number(flags.concurrency) || 8),
    allowDelete: flags.allowDelete,
    maxDeleteFraction: Number(flags.maxDeleteFraction),
    onUpdate: (d, evs) => {
      events.notify(d.id);
      notifier.onUpdate(d, evs);
      if (d.finishedAt !== null && evs.some((e) => e.type === d.phase)) metrics.deploymentFinished(d);
      for (const e of evs) log(`${d.object} ${e.type}: ${e.message}`);
    },
    onSourceEvent: (e) => {
      if (e.type === "commit-processed") metrics.setQueueDepth(controller.sources.queueDepth(e.repository), e.repository);
      log(`source ${e.type}: ${JSON.stringify(e)}`);
    },
    onWarning: (m) => log(`warning: ${m}`),
  });
  const adminToken = io.env[config.adminTokenEnv];
  if (adminToken) {
    const existing = (await ctx.store.listTokens()).find((t) => t.name === "admin");
    if (!existing) await ctx.store.createToken("admin", "operator", adminToken);
  }
  const app = buildServer({ store: ctx.store, clock: ctx.clock, controller, metrics, events, masker, policy: config, options: { logger: false, bodyLimit: config.http.bodyLimit } });
  registerGithubWebhook(app, controller.sources, { bodyLimit: config.http.webhookBodyLimit });
  await app.listen({ host, port });
  const address = app.server.address();
  const where = typeof address === "object" && address ? `${address.address}:${address.port}` : config.listen;
  controller.start();
  log(`flotilla serve: API on http://${where}${ctx.simulators.size || flags.simulator !== undefined ? " (simulator)" : ""}; ${secret ? "GitHub webhooks on /webhooks/github" : `webhooks off (set ${config.webhookSecretEnv})`}; ${adminToken ? "admin token ready" : `no admin token (set ${config.adminTokenEnv} or create tokens in the store)`}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  log("stopping: no new work; deployments in flight resume on the next start");
  await controller.stop();
  await app.close();
  await notifier.drain();
  await ctx.close();
  return EXIT.ok;
}
