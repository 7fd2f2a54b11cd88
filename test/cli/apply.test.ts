/** `flotilla apply` as a user runs it: one failing deployment never takes the pass (or its JSON) down. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { cli } from "../helpers/cli.ts";
import { rollingObject } from "../helpers/objects.ts";
import { cleanupTrees, writeTree } from "../helpers/tree.ts";

after(cleanupTrees);

describe("flotilla apply", () => {
  it("Given a new service whose image cannot be pulled beside a healthy one, When applied with --output json, Then it exits 1 with both results in the JSON", async () => {
    const bad = "registry.example/app:missing";
    const dir = writeTree({
      ...rollingObject("a/a", "a"),
      ...rollingObject("b/b", "b", { task: { containerDefinitions: [{ name: "app", image: bad, memory: 256, essential: true }] } }),
      "sim.json": { region: "us-east-1", clusters: ["apps"], faults: { images: [{ image: bad, pullFails: true }] } },
    });
    const r = await cli(["apply", dir, "--simulator", path.join(dir, "sim.json"), "--store", path.join(dir, "s.db"), "--output", "json"]);
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as { deployments: { object: string; phase: string; message: string | null }[]; errors: unknown[] };
    assert.deepEqual(Object.fromEntries(doc.deployments.map((d) => [d.object, d.phase])), { "a/a": "Succeeded", "b/b": "Failed" });
    assert.match(doc.deployments.find((d) => d.object === "b/b")!.message ?? "", /scaled to 0/);
    assert.deepEqual(doc.errors, []);
  });
});
