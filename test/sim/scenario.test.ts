import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { VirtualClock } from "../../src/core/clock.ts";
import { loadScenario, parseScenario, ScenarioError } from "../../src/sim/scenario.ts";

const examples = new URL("../../examples/scenarios/", import.meta.url);

function issues(f: () => unknown): { path: string; message: string }[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ScenarioError) return e.issues;
    throw e;
  }
  assert.fail("expected a ScenarioError");
}

describe("scenario files", () => {
  it("report schema errors with their JSON path", () => {
    const found = issues(() => parseScenario({ services: [{ serviceName: "a", desiredCount: -1 }], bogus: 1 }));
    assert.ok(found.some((i) => i.path === "$.services[0].desiredCount"), JSON.stringify(found));
    assert.ok(found.some((i) => i.path === "$" && /bogus/.test(i.message)), JSON.stringify(found));
  });

  it("report unknown references with their path", () => {
    const s = parseScenario({ clusters: ["prod"], loadBalancers: [{ name: "lb", listeners: [{ port: 80, defaultActions: [{ targetGroup: "nope" }] }] }] });
    const found = issues(() => loadScenario(s, new VirtualClock()));
    assert.deepEqual(found, [{ path: "$.loadBalancers[0].listeners[0].defaultActions[0]", message: "no target group nope in targetGroups" }]);
  });

  it("report AWS-side rejections of the initial state with their path", () => {
    const s = parseScenario({ clusters: ["prod"], services: [{ cluster: "prod", serviceName: "a", taskDefinition: "missing:1" }] });
    const found = issues(() => loadScenario(s, new VirtualClock()));
    assert.deepEqual(found, [{ path: "$.services[0]", message: "ClientException: TaskDefinition not found." }]);
  });

  it("durations accept seconds or suffixed strings", () => {
    assert.ok(parseScenario({ faults: { images: [{ image: "x", exitAfter: "1.5m", startDelay: 30 }] } }));
    const found = issues(() => parseScenario({ faults: { images: [{ image: "x", exitAfter: "soon" }] } }));
    assert.equal(found[0]!.path, "$.faults.images[0].exitAfter");
  });

  it("every example under examples/scenarios loads and runs for ten simulated minutes", async () => {
    const files = (await readdir(examples)).filter((f) => f.endsWith(".json"));
    assert.ok(files.length >= 3);
    for (const f of files) {
      const clock = new VirtualClock();
      const sim = loadScenario(parseScenario(JSON.parse(await readFile(new URL(f, examples), "utf8")), f), clock, f);
      await clock.advance(10 * 60_000);
      sim.sync();
      assert.ok(sim.clusters.size > 0, f);
    }
  });
});

import { openSimulator, readScenarioFile } from "../../src/sim/open.ts";

describe("opening a simulator from a file", () => {
  it("reports unreadable files and bad JSON as scenario errors", async () => {
    await assert.rejects(readScenarioFile("/nonexistent/x.json", "x.json"), (e: unknown) => e instanceof ScenarioError && /x\.json/.test(e.message) && /cannot read/.test(e.message));
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(`${tmpdir()}/flotilla-scn-`);
    await writeFile(`${dir}/bad.json`, "{ nope");
    await assert.rejects(readScenarioFile(`${dir}/bad.json`), (e: unknown) => e instanceof ScenarioError && /not valid JSON/.test(e.message));
  });

  it("gives resilient ports for the scenario's Region only", async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const opened = openSimulator(await readScenarioFile(new URL("blue-green-canary.json", examples).pathname), clock);
    assert.equal(opened.factory("eu-west-1"), opened.ports);
    assert.throws(() => opened.factory("us-east-1"), /models Region eu-west-1/);
    const r = await opened.ports.ecs.describeServices("prod", ["checkout"]);
    assert.equal(r.services[0]!.deploymentController.type, "EXTERNAL");
  });
});
