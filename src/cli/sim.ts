/**
 * `flotilla sim [SCENARIO.json]`: load a scenario into the simulator and print the simulated
 * world over time (services, deployments, task sets, listener weights, alarms). Scripted API
 * calls in the scenario run at their times. Virtual time by default (instant); `--speed N`
 * runs N× real time for a live demo.
 */
import { resolve } from "node:path";
import { ScaledClock, VirtualClock, type Clock } from "../core/clock.ts";
import { FlotillaError } from "../core/problems.ts";
import { readScenarioFile } from "../sim/open.ts";
import type { Simulator } from "../sim/simulator.ts";
import { formatDuration, parseDuration } from "../sim/ids.ts";
import { loadScenario, parseScenario, runScriptStep, type Scenario, type ScriptResult } from "../sim/scenario.ts";
import { formatResources, scenarioResources } from "../sim/resources.ts";
import { formatSnapshot, snapshot, type WorldSnapshot } from "../sim/snapshot.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { printJson } from "./output.ts";

interface SimOptions {
  for: string;
  every: string;
  output: string;
  speed?: string;
}

/** Used when no scenario is given: one steady service, so the verb shows something. */
const BUILT_IN = {
  description: "built-in: one cluster with one steady service",
  clusters: ["default"],
  taskDefinitions: [{ family: "hello", containerDefinitions: [{ name: "app", image: "public.ecr.aws/nginx/nginx:1.27", essential: true }] }],
  services: [{ cluster: "default", serviceName: "hello", taskDefinition: "hello:1", desiredCount: 2 }],
};

export const register: RegisterCommand = (program, io, run) => {
  program
    .command("sim")
    .description("run a simulator scenario and print the simulated ECS/ELB/CloudWatch state over time")
    .argument("[scenario]", "scenario JSON file (see docs/simulator.md); a tiny built-in one if omitted")
    .option("--for <duration>", "how much simulated time to run (e.g. 10m, 90s, 1h)", "10m")
    .option("--every <duration>", "print the state every this much simulated time", "30s")
    .option("--speed <factor>", "run in real time sped up by this factor (e.g. 60) instead of instantly")
    .option("-o, --output <format>", "text or json", "text")
    .action((scenario: string | undefined, opts: SimOptions) => run(() => simulate(io, scenario, opts)));
};

async function simulate(io: CliIO, file: string | undefined, opts: SimOptions): Promise<number> {
  let total: number;
  let every: number;
  try {
    total = parseDuration(opts.for);
    every = parseDuration(opts.every);
  } catch (e) {
    throw new FlotillaError({ code: "FLT-CLI-USAGE", message: e instanceof Error ? e.message : String(e), hint: "durations look like 30s, 5m, 1h or a number of seconds" });
  }
  if (every <= 0) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: "--every must be greater than 0" });
  const speed = opts.speed !== undefined ? Number(opts.speed) : undefined;
  if (speed !== undefined && !(speed > 0)) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: "--speed must be a positive number" });

  // An invalid scenario is a ScenarioError: main prints it as FLT-SIM-SCENARIO problems, exit 2.
  const scenario: Scenario = file !== undefined ? await readScenarioFile(resolve(io.cwd, file), file) : parseScenario(BUILT_IN, "built-in scenario");
  const start = scenario.start ? Date.parse(scenario.start) : Date.UTC(2026, 0, 1);
  const virtual = speed === undefined ? new VirtualClock({ start }) : undefined;
  const clock: Clock = virtual ?? new ScaledClock(speed!, start);
  const sim: Simulator = loadScenario(scenario, clock, file ?? "built-in scenario");
  const ports = sim.ports();
  // What the scenario created, with ARNs: what svcdefs, depdefs and inputs refer to.
  const resources = scenarioResources(sim);
  if (opts.output !== "json") io.out(formatResources(resources) + "\n");
  // In real-time mode the clock has moved on while loading; count from the simulator's own start.
  const base = sim.startedAt;
  const goTo = async (t: number) => {
    if (virtual) await virtual.advanceTo(t);
    else if (t > clock.now()) await clock.sleep(t - clock.now());
    sim.sync();
  };
  const steps = scenario.script.map((s) => ({ ...s, atMs: parseDuration(s.at) })).sort((a, b) => a.atMs - b.atMs);
  const frames: WorldSnapshot[] = [];
  const results: ScriptResult[] = [];
  let next = 0;
  for (let t = 0; t <= total; t += every) {
    while (next < steps.length && steps[next]!.atMs <= t) {
      const step = steps[next++]!;
      await goTo(base + step.atMs);
      const r = await runScriptStep(sim, ports, step);
      results.push(r);
      if (opts.output !== "json") {
        const mark = r.ok ? paint(io, "green", "ok") : paint(io, "red", "failed");
        io.out(`t+${formatDuration(step.atMs)}  ${paint(io, "bold", step.call)} ${mark}: ${r.detail}\n`);
      }
    }
    await goTo(base + t);
    const snap = snapshot(sim);
    if (opts.output === "json") frames.push(snap);
    else io.out(formatSnapshot(snap) + "\n");
  }
  if (opts.output === "json") printJson(io, { scenario: scenario.description ?? file ?? "built-in", resources, script: results, frames });
  return results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
}
