/**
 * One call to get a simulator from a scenario file, for `flotilla sim` and for every command
 * that takes `--simulator [SCENARIO.json]`.
 */
import { readFile } from "node:fs/promises";
import type { Clock } from "../core/clock.ts";
import type { AwsPorts, AwsPortsFactory } from "../aws/ports.ts";
import { resilientPorts } from "../aws/resilient.ts";
import { loadScenario, parseScenario, ScenarioError, type Scenario } from "./scenario.ts";
import type { Simulator } from "./simulator.ts";

/** Read and validate a scenario file; every failure is a ScenarioError naming the file. */
export async function readScenarioFile(path: string, label = path): Promise<Scenario> {
  return parseScenario(await readScenarioJson(path, label), label);
}

/** A scenario file's JSON as written (no defaults filled in); unreadable or not JSON is a ScenarioError. */
export async function readScenarioJson(path: string, label = path): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new ScenarioError(label, [{ path: "$", message: `cannot read the file: ${e instanceof Error ? e.message : String(e)}` }]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ScenarioError(label, [{ path: "$", message: `not valid JSON: ${e instanceof Error ? e.message : String(e)}` }]);
  }
}

export interface OpenedSimulator {
  sim: Simulator;
  scenario: Scenario;
  /** The simulator's ports with the adapter's client-side batching, rate limiting and retries. */
  ports: AwsPorts;
  /** For code that asks for ports by Region; only the scenario's Region exists. */
  factory: AwsPortsFactory;
}

export function openSimulator(scenario: Scenario, clock: Clock, label = "scenario"): OpenedSimulator {
  const sim = loadScenario(scenario, clock, label);
  const ports = resilientPorts(sim.ports(), { clock, random: sim.random });
  const factory: AwsPortsFactory = (region) => {
    if (region !== sim.region) throw new Error(`the simulator models Region ${sim.region}, not ${region}`);
    return ports;
  };
  return { sim, scenario, ports, factory };
}
