/**
 * `flotilla serve`: the GitOps controller as a long-running process — Git sources (poller and
 * GitHub webhooks), the deployment engine, and the HTTP API (docs/api.md) — on AWS or, with
 * `--simulator`, on the built-in simulator. Several replicas may share a PostgreSQL store: each
 * deployment is driven by one replica at a time, under a lease (docs/store.md, "Several replicas").
 * SIGTERM/SIGINT stop taking work, hand the deployments in flight over (released for another replica,
 * or the next start, to adopt at once) and exit within --shutdown-timeout; a second signal exits at
 * once. The verb reads its flags and configuration; the server is put together in src/app/serve.ts.
 */
import path from "node:path";
import { startServer } from "../app/serve.ts";
import { defaultServerConfig, loadServerConfig, ServerConfigError, type ServerConfig } from "../controller/server-config.ts";
import { FlotillaError } from "../core/problems.ts";
import { createMetrics } from "../server/index.ts";
import { addAwsOptions, openContext, type AwsOptions } from "./context.ts";
import { EXIT, parseListen, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { formatProblem } from "./output.ts";
import { parseConcurrency } from "../controller/pacing.ts";
import { PASS_DEFAULTS } from "../controller/pass.ts";
import { ALLOW_ENV_OPTION } from "./options.ts";

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
  allowEnv?: string[];
  leaseTtl: string;
  heartbeat?: string;
  shutdownTimeout: string;
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
      .option("--max-delete-fraction <f>", "refuse a commit deleting more than this fraction of a repository's services", String(PASS_DEFAULTS.maxDeleteFraction))
      .option("--concurrency <n|auto>", "deployments of one commit running at once; auto: started as fast as ECS's request rates take them, no cap", String(PASS_DEFAULTS.concurrency))
      .option("--notify <url...>", "deprecated: webhook URLs notified of every deployment; use notifications.targets in --config")
      .option(...ALLOW_ENV_OPTION)
      .option("--lease-ttl <seconds>", "how long this replica's hold on a deployment or repository lasts unless renewed: another replica adopts its work this long after it dies", "30")
      .option("--heartbeat <seconds>", "how often leases are renewed and orphaned deployments looked for (default: a third of --lease-ttl)")
      .option("--shutdown-timeout <seconds>", "on SIGTERM, exit within this many seconds: deployments in flight are handed over, never waited for", "10"),
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
    inputs: { allowedEnv: [...config.inputs.allowedEnv, ...(flags.allowEnv ?? [])] },
  };
}

/** `--lease-ttl`, `--heartbeat` and `--shutdown-timeout`, in milliseconds. */
export function leaseTimes(flags: Pick<ServeFlags, "leaseTtl" | "heartbeat" | "shutdownTimeout">): { ttlMs: number; heartbeatMs: number; shutdownMs: number } {
  const seconds = (flag: string, value: string): number => {
    const n = Number(value);
    if (!(n > 0) || !Number.isFinite(n)) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `${flag} must be a positive number of seconds, not ${value}` });
    return Math.round(n * 1000);
  };
  const ttlMs = seconds("--lease-ttl", flags.leaseTtl);
  const heartbeatMs = flags.heartbeat !== undefined ? seconds("--heartbeat", flags.heartbeat) : Math.max(1, Math.floor(ttlMs / 3));
  if (heartbeatMs >= ttlMs) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `--heartbeat (${heartbeatMs / 1000} s) must be shorter than --lease-ttl (${ttlMs / 1000} s)`, hint: "renew at least twice per lease: a third of the TTL is the default" });
  return { ttlMs, heartbeatMs, shutdownMs: seconds("--shutdown-timeout", flags.shutdownTimeout) };
}

async function serve(io: CliIO, flags: ServeFlags): Promise<number> {
  const config = await serverConfig(io, flags);
  const times = leaseTimes(flags);
  const { host, port } = parseListen(config.listen);
  // A server runs in real time; on the simulator too, unless sped up with --speed.
  const metrics = createMetrics();
  const ctx = await openContext(io, { ...flags, ...(flags.simulator !== undefined && !flags.speed ? { speed: "1" } : {}) }, (service, operation, throttled) => metrics.awsCall(service, operation, throttled));
  const server = await startServer({
    engine: ctx,
    config,
    host,
    port,
    metrics,
    env: io.env,
    logTo: { write: (line) => io.err(line) },
    concurrency: parseConcurrency(flags.concurrency),
    allowDelete: flags.allowDelete,
    maxDeleteFraction: Number(flags.maxDeleteFraction),
    simulator: ctx.simulators.size > 0 || flags.simulator !== undefined,
    deprecatedNotify: Boolean(flags.notify?.length),
    leaseTtlMs: times.ttlMs,
    heartbeatMs: times.heartbeatMs,
  });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  // A second signal exits at once, still safely: every step is recorded before its AWS call, and
  // the leases left behind run out, so another replica adopts them after --lease-ttl.
  const now = (signal: NodeJS.Signals) => () => {
    server.log.warn(`${signal} again: exiting now; deployments not yet released are adopted once their leases run out`);
    process.exit(EXIT.failed);
  };
  process.once("SIGTERM", now("SIGTERM"));
  process.once("SIGINT", now("SIGINT"));
  const deadline = setTimeout(() => {
    server.log.warn(`not stopped within ${times.shutdownMs / 1000} s: exiting; deployments not yet released are adopted once their leases run out`);
    process.exit(EXIT.failed);
  }, times.shutdownMs);
  deadline.unref();
  await server.stop(times.shutdownMs);
  await ctx.close();
  clearTimeout(deadline);
  return EXIT.ok;
}
