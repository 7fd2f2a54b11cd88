/**
 * Environment inputs: an input's `ref` of type ENV names variables whose values come from the
 * environment Flotilla runs in — only those the operator allows (--allow-env, FLOTILLA_ALLOW_ENV,
 * the server configuration's inputs.allowedEnv); a variable not allowed or not set is a coded error
 * at the file and JSON path; nothing else of the environment is ever readable. Given/When/Then.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { allowedEnvironment } from "../../src/config/inputs.ts";
import { loadServerConfig } from "../../src/controller/server-config.ts";
import { cli } from "../helpers/cli.ts";
import { cleanupTrees, writeTree } from "../helpers/tree.ts";
import { svcdef, taskdef } from "../helpers/objects.ts";
import { loadOptions, loadRepository } from "../../src/config/repository.ts";
import { WorkingTreeSource } from "../../src/config/source.ts";

after(cleanupTrees);

/** An object whose taskdef puts API_URL (and DB_PASSWORD when asked) in the container's environment. */
function tree(input: object, extraEnv: string[] = []): string {
  const env = [{ name: "API_URL", value: "{{ API_URL }}" }, ...extraEnv.map((k) => ({ name: k, value: `{{ ${k} }}` }))];
  return writeTree({
    "a/web_svcdef.json": svcdef("web"),
    "a/web_taskdef.json": JSON.stringify(taskdef("web", { containerDefinitions: [{ name: "app", image: "nginx@sha256:" + "a".repeat(64), memory: 256, essential: true, environment: env }] })),
    "a/web_input.json": input,
  });
}

async function load(dir: string, allowed: string[], env: Record<string, string>) {
  const repo = await loadRepository(new WorkingTreeSource(dir), loadOptions({ environment: allowedEnvironment(allowed, env, "allow it") }));
  return repo.objects[0]!;
}

const containerEnv = (o: Awaited<ReturnType<typeof load>>) => ((o.taskdef!["containerDefinitions"] as { environment: { name: string; value: string }[] }[])[0]!.environment);

describe("environment inputs", () => {
  it("Given an ENV ref and the variable allowed and set, When the object renders, Then the template reads its value", async () => {
    const o = await load(tree({ ref: { type: "ENV", keys: ["API_URL"] } }), ["API_URL"], { API_URL: "https://api.internal", HOME: "/root" });
    assert.deepEqual(o.problems.filter((p) => p.severity === "error"), []);
    assert.deepEqual(containerEnv(o), [{ name: "API_URL", value: "https://api.internal" }]);
  });

  it("Given a variable not allowed, Then FLT-INPUT-ENV-NOT-ALLOWED names the input file, the JSON path and how to allow it, and nothing renders", async () => {
    const o = await load(tree({ ref: { type: "ENV", keys: ["API_URL"] } }), [], { API_URL: "https://api.internal" });
    const [p, ...more] = o.problems.filter((x) => x.severity === "error");
    assert.equal(more.length, 0, JSON.stringify(more));
    assert.deepEqual([p!.code, p!.file, p!.path, p!.line], ["FLT-INPUT-ENV-NOT-ALLOWED", "a/web_input.json", "$.ref.keys[0]", 5]);
    assert.match(p!.hint ?? "", /allow it/);
    assert.equal(o.valid, false);
  });

  it("Given a variable allowed but not set, Then FLT-INPUT-ENV-MISSING at its path", async () => {
    const o = await load(tree({ ref: [{ type: "JSON", file: ["shared.json"] }, { type: "ENV", keys: ["OTHER", "API_URL"] }] }), ["API_URL", "OTHER"], { OTHER: "x" });
    const codes = o.problems.filter((x) => x.severity === "error").map((x) => [x.code, x.path]);
    assert.deepEqual(codes, [["FLT-INPUT-REF-FILE-MISSING", "$.ref[0].file[0]"], ["FLT-INPUT-ENV-MISSING", "$.ref[1].keys[1]"]]);
  });

  it("Given variables of the environment the ref does not name, Then a template cannot reach them, allowed or not", async () => {
    const dir = writeTree({
      "a/web_svcdef.json": svcdef("web"),
      "a/web_taskdef.json": JSON.stringify(taskdef("web", { family: "{{ HOME }}" })),
      "a/web_input.json": { ref: { type: "ENV", keys: ["API_URL"] } },
    });
    const o = await load(dir, ["API_URL", "HOME"], { API_URL: "u", HOME: "/root" });
    assert.deepEqual(o.problems.filter((x) => x.severity === "error").map((x) => x.code), ["FLT-TEMPLATE-UNDEFINED"]);
  });

  it("Given a prefix pattern, a list of refs and the input's own keys, Then APP_* allows APP_ variables and the own keys win", async () => {
    const o = await load(tree({ ref: [{ type: "ENV", keys: ["APP_MODE", "API_URL"] }], API_URL: "own" }, ["APP_MODE"]), ["APP_*", "API_URL"], { APP_MODE: "blue", API_URL: "env" });
    assert.deepEqual(containerEnv(o), [{ name: "API_URL", value: "own" }, { name: "APP_MODE", value: "blue" }]);
  });

  it("Given malformed ENV refs, Then FLT-INPUT-REF-INVALID or FLT-CONFIG-UNKNOWN-KEY at the path", async () => {
    for (const [ref, code, path] of [
      [{ type: "ENV" }, "FLT-INPUT-REF-INVALID", "$.ref"],
      [{ type: "ENV", keys: ["1BAD"] }, "FLT-INPUT-REF-INVALID", "$.ref.keys[0]"],
      [{ type: "ENV", keys: ["API_URL"], file: ["x.json"] }, "FLT-CONFIG-UNKNOWN-KEY", "$.ref.file"],
    ] as const) {
      const o = await load(tree({ ref }), ["API_URL"], { API_URL: "u" });
      assert.ok(o.problems.some((p) => p.code === code && p.path === path), `${JSON.stringify(ref)}: ${JSON.stringify(o.problems.map((p) => [p.code, p.path]))}`);
    }
  });

  it("Given the CLI, When render runs with --allow-env or FLOTILLA_ALLOW_ENV, Then the value is used and a secret-looking one is masked; without them the error is coded", async () => {
    const dir = tree({ ref: { type: "ENV", keys: ["API_URL", "DB_PASSWORD"] } }, ["DB_PASSWORD"]);
    const env = { API_URL: "https://api.internal", DB_PASSWORD: "hunter2-very-secret", FLOTILLA_ALLOW_ENV: "" };
    const refused = await cli(["validate", dir], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout + refused.stderr, /FLT-INPUT-ENV-NOT-ALLOWED/);
    const ok = await cli(["render", dir, "a/web", "-o", "json", "--allow-env", "API_URL", "DB_PASSWORD"], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /https:\/\/api\.internal/);
    assert.doesNotMatch(ok.stdout, /hunter2/);
    const viaEnv = await cli(["validate", dir], { ...env, FLOTILLA_ALLOW_ENV: "API_URL,DB_PASSWORD" });
    assert.equal(viaEnv.code, 0, viaEnv.stdout + viaEnv.stderr);
    const everything = await cli(["validate", dir, "--allow-env", "*"], env);
    assert.equal(everything.code, 2);
    assert.match(everything.stderr, /FLT-CLI-USAGE/);
  });

  it("Given a server configuration, Then inputs.allowedEnv takes names and prefixes and refuses * alone", async () => {
    const good = writeTree({ "server.yaml": "inputs:\n  allowedEnv: [API_URL, APP_*]\n" });
    assert.deepEqual((await loadServerConfig("server.yaml", good)).inputs, { allowedEnv: ["API_URL", "APP_*"] });
    const bad = writeTree({ "server.yaml": "inputs:\n  allowedEnv: ['*']\n" });
    await assert.rejects(loadServerConfig("server.yaml", bad), (e: Error & { code?: string }) => e.code === "FLT-SERVER-CONFIG");
  });
});
