/**
 * `flotilla deployment list|get|watch`: deployments as the server records them, through the API of
 * `flotilla serve`. `watch` follows the event stream (reconnecting with Last-Event-ID) until the
 * deployment ends: exit 0 when it succeeded, 1 otherwise.
 */
import { trafficText } from "../deploy/waiting.ts";
import { isFlotillaError } from "../core/problems.ts";
import { isTerminal, type Phase } from "../store/types.ts";
import { ApiClient, SERVER_OPTION, table, type DeploymentRecord, type EventRecord, type Query, type StreamEvent } from "./api-client.ts";
import { limitOf } from "./commit.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { printJson } from "./output.ts";
import { SystemClock } from "../core/clock.ts";

type Flags = { server?: string; output: string };
interface ListFlags extends Flags {
  repository?: string;
  commit?: string;
  object?: string;
  service?: string;
  cluster?: string;
  region?: string;
  phase?: string[];
  active?: boolean;
  limit: string;
  cursor?: string;
}

export const register: RegisterCommand = (program, io, run) => {
  const deployment = program.command("deployment").description("deployments recorded by the server: list, get, watch (through the API of `flotilla serve`)");
  deployment
    .command("list")
    .description("deployments, newest first; filters combine with AND")
    .option("--repository <name>", "of this repository")
    .option("--commit <sha>", "of this commit (hex)")
    .option("--object <prefix>", "of these objects (path prefix)")
    .option("--service <name>", "of this ECS service")
    .option("--cluster <name>", "in this cluster")
    .option("--region <region>", "in this region")
    .option("--phase <phase...>", "in any of these phases (e.g. Failed RolledBack)")
    .option("--active", "only deployments in progress", false)
    .option("--limit <n>", "how many (1-500)", "50")
    .option("--cursor <cursor>", "the next page (printed after a full page)")
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((flags: ListFlags) => run(() => list(io, flags)));
  deployment
    .command("get")
    .description("one deployment with its timeline and operator controls")
    .argument("<id>", "the deployment id")
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((id: string, flags: Flags) => run(() => get(io, id, flags)));
  deployment
    .command("watch")
    .description("follow a deployment's events until it ends (exit 0 when it succeeded, 1 otherwise)")
    .argument("<id>", "the deployment id")
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text, or json (one event per line)", "text")
    .action((id: string, flags: Flags) => run(() => watch(io, id, flags)));
};

const PHASE_STYLE: Partial<Record<string, Parameters<typeof paint>[1]>> = { Succeeded: "green", Failed: "red", RolledBack: "red", Aborted: "red", RollingBack: "yellow", Paused: "yellow" };
const phaseText = (io: CliIO, phase: string) => paint(io, PHASE_STYLE[phase] ?? "cyan", phase);

async function list(io: CliIO, flags: ListFlags): Promise<number> {
  const query: Query = {
    repository: flags.repository,
    commit: flags.commit,
    object: flags.object,
    service: flags.service,
    cluster: flags.cluster,
    region: flags.region,
    phase: flags.phase,
    status: flags.active ? "active" : undefined,
    limit: limitOf(flags.limit),
    cursor: flags.cursor,
  };
  const page = await ApiClient.from(io, flags.server).listDeployments(query);
  if (flags.output === "json") {
    printJson(io, page);
    return EXIT.ok;
  }
  if (page.items.length === 0) {
    io.out("no deployments match\n");
    return EXIT.ok;
  }
  const rows = page.items.map((d) => [d.id, d.phase, d.object, d.strategy, `${d.region}/${d.cluster}/${d.service}`, d.repository ? `${d.repository}@${(d.commitSha ?? "").slice(0, 12)}` : "-", d.createdAt]);
  io.out(table(["ID", "PHASE", "OBJECT", "STRATEGY", "REGION/CLUSTER/SERVICE", "COMMIT", "CREATED"], rows, (s) => paint(io, "bold", s)));
  if (page.nextCursor) io.out(paint(io, "dim", `more: --cursor ${page.nextCursor}`) + "\n");
  return EXIT.ok;
}

function eventLine(io: CliIO, e: EventRecord): string {
  return `${paint(io, "dim", e.at.slice(11, 19))} ${e.type.padEnd(24)} ${e.message}\n`;
}

function summary(io: CliIO, d: DeploymentRecord): string {
  const counts = `${d.counts.running}/${d.counts.desired} running${d.counts.failed ? `, ${d.counts.failed} failed` : ""}${trafficText(d)}`;
  return `${phaseText(io, d.phase)} ${d.object} ${counts}${d.reason ? ` — ${d.reason}` : ""}${d.message && d.phase !== "Succeeded" ? `: ${d.message}` : ""}`;
}

async function get(io: CliIO, id: string, flags: Flags): Promise<number> {
  const d = await ApiClient.from(io, flags.server).getDeployment(id);
  if (flags.output === "json") {
    printJson(io, d);
    return EXIT.ok;
  }
  const field = (k: string, v: string | number | null) => `  ${paint(io, "dim", k.padEnd(12))} ${v ?? "-"}\n`;
  io.out(`${paint(io, "bold", `deployment ${d.id}`)}\n`);
  io.out(field("phase", phaseText(io, d.phase)) + field("object", d.object) + field("strategy", d.strategy));
  io.out(field("service", `${d.region}/${d.cluster}/${d.service}`));
  io.out(field("commit", d.repository ? `${d.repository}@${d.commitSha ?? "-"}${d.branch ? ` (${d.branch})` : ""}` : null));
  io.out(field("tasks", `${d.counts.running}/${d.counts.desired} running, ${d.counts.failed} failed`));
  if (d.trafficWeight !== null) io.out(field("traffic", `${d.trafficWeight}% on green`));
  if (d.reason || d.message) io.out(field("reason", [d.reason, d.message].filter(Boolean).join(": ")));
  // Which replica drives it (or last drove it), under which fencing token: docs/store.md, "Several replicas".
  if (d.owner) io.out(field("owner", `${d.owner.id} (token ${d.owner.token}${d.finishedAt ? "" : `, lease until ${d.owner.leaseExpiresAt}`})`));
  if (d.overrides.length) io.out(field("overrides", d.overrides.map((o) => `${o.name} (by ${o.setBy})`).join(", ")));
  io.out(field("created", d.createdAt) + field("finished", d.finishedAt));
  io.out(`\n${paint(io, "bold", "timeline")}\n`);
  for (const e of d.timeline) io.out(`  ${eventLine(io, e)}`);
  if (d.controls.length) {
    io.out(`\n${paint(io, "bold", "controls")}\n`);
    for (const c of d.controls) io.out(`  ${paint(io, "dim", c.requestedAt)} ${c.action.padEnd(8)} by ${c.requestedBy}${c.consumedAt ? `, acted on ${c.consumedAt}` : ", pending"}\n`);
  }
  return EXIT.ok;
}

/** How many reconnections in a row `watch` tries before giving up, and the longest wait between two. */
const MAX_RECONNECTS = 20;
const MAX_BACKOFF_MS = 5000;

async function watch(io: CliIO, id: string, flags: Flags): Promise<number> {
  const client = ApiClient.from(io, flags.server);
  const json = flags.output === "json";
  let lastSeq = 0;
  let lastId: string | undefined;
  let failures = 0;
  let connected = false;
  const print = (e: EventRecord) => {
    if (e.seq <= lastSeq) return;
    lastSeq = e.seq;
    io.out(json ? JSON.stringify(e) + "\n" : eventLine(io, e));
  };
  /** Catch up from the record (events the stream cannot replay); the exit code once it has ended. */
  const catchUp = async (): Promise<number | undefined> => {
    const d = await client.getDeployment(id);
    for (const e of d.timeline) print(e);
    if (!isTerminal(d.phase)) return undefined;
    if (!json) io.out(summary(io, d) + "\n");
    return d.phase === "Succeeded" ? EXIT.ok : EXIT.failed;
  };

  for (;;) {
    const abort = new AbortController();
    try {
      // Connect first (the stream's position is fixed when it answers), then read what came before.
      const stream = await client.openEvents({ deployment: id }, lastId, abort.signal);
      if (!connected && !json) io.err(paint(io, "dim", `watching deployment ${id} on ${client.base}`) + "\n");
      connected = true;
      failures = 0;
      const ended = await catchUp();
      if (ended !== undefined) return ended;
      for await (const m of stream) {
        if (m.id) lastId = m.id;
        if (m.event === "error") break;
        if (m.event !== "deployment" || m.data === undefined) continue;
        const e = JSON.parse(m.data) as StreamEvent;
        if (e.deploymentId !== id) continue;
        print(e);
        if (isTerminal(e.phase as Phase)) {
          const done = await catchUp();
          if (done !== undefined) return done;
        }
      }
    } catch (e) {
      // The first connection failing is an answer (server down, bad token, unknown id); later, a
      // dropped or refused connection, or a server restarting (503), is retried. Other API errors are not.
      const transient = !isFlotillaError(e) || e.code === "FLT-CLI-SERVER-UNREACHABLE" || e.code === "FLT-API-UNAVAILABLE";
      const retry = connected && transient && failures < MAX_RECONNECTS;
      if (!retry) throw e;
    } finally {
      abort.abort();
    }
    failures++;
    const wait = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(failures, 6));
    if (!json) io.err(paint(io, "yellow", `connection to ${client.base} lost; reconnecting in ${(wait / 1000).toFixed(1)}s`) + "\n");
    await new SystemClock().sleep(wait);
  }
}
