/**
 * Creates whose answer was lost. moto's CreateTaskSet stores the task set, then fails running its
 * tasks and answers Flask's HTML 500 page; it ignores the clientToken that makes AWS's creates
 * idempotent. Sending the call again made a second set each time (36 task sets for one deployment,
 * found against moto). Given an endpoint that makes the thing and then answers a 5xx,
 * When a deployment runs, Then Flotilla looks before it repeats the call, finds what the call made,
 * records that and carries on with it: one task set, one service. A 5xx that made nothing is retried.
 * End to end on the simulator, with the ECS answers changed as such an endpoint gives them.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { AwsError } from "../../src/aws/errors.ts";
import type { CreateTaskSetInput, EcsRequest } from "../../src/aws/ports.ts";
import { Runner } from "../../src/deploy/runner.ts";
import { bgSpec, bgWorld, engine, rollingSpec, withEcs, withElbv2, type BgWorld, type Engine } from "../helpers/engine.ts";

let world: BgWorld | Engine | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Task sets other than blue draining away. */
const live = <T extends { status: string }>(sets: T[]) => sets.filter((s) => s.status !== "DRAINING");

const html500 = (operation: string) =>
  new AwsError({ name: "InvalidResponse", message: "the endpoint answered HTTP 500 (text/html), not an AWS answer: 500 Internal Server Error", service: "ECS", operation, httpStatus: 500 });

describe("a create whose answer was an error that may hide success", () => {
  it("blue/green: green made, then HTTP 500 — one green task set, found and used, the deployment succeeds", async () => {
    const w = (world = await bgWorld());
    await w.deploy(bgSpec(w, "web:1"));
    const creates: CreateTaskSetInput[] = [];
    const aws = withEcs(w.sim.portsFactory(), (ecs) => ({
      createTaskSet: async (input) => {
        creates.push(input);
        await ecs.createTaskSet(input);
        throw html500("CreateTaskSet");
      },
    }));
    const runner = new Runner({ store: w.store, aws, clock: w.clock });
    const d = await runner.run(await runner.create(bgSpec(w, "web:2"), { strategy: "bluegreen" }));
    assert.equal(d.phase, "Succeeded", `${d.reason} ${d.message}`);
    assert.equal(creates.length, 1, "CreateTaskSet was not sent again");
    assert.deepEqual(live(await w.taskSets()).map((s) => [s.status, s.targetGroups]), [["PRIMARY", ["web-green"]]]);
    const found = (await w.events(d)).filter((e) => e.type === "FoundAfterError");
    assert.equal(found.length, 1);
    assert.match(found[0]!.message, /^CreateTaskSet failed \(InvalidResponse: the endpoint answered HTTP 500 .*\), but its task set ecs-svc\/\S+ exists: carrying on with it$/);
  });

  it("blue/green: an HTTP 500 that made nothing is retried after a back-off, and only one set is made", async () => {
    const w = (world = await bgWorld());
    await w.deploy(bgSpec(w, "web:1"));
    let calls = 0;
    const aws = withEcs(w.sim.portsFactory(), (ecs) => ({
      createTaskSet: async (input) => {
        if (++calls === 1) throw html500("CreateTaskSet");
        return ecs.createTaskSet(input);
      },
    }));
    const runner = new Runner({ store: w.store, aws, clock: w.clock });
    const d = await runner.run(await runner.create(bgSpec(w, "web:2"), { strategy: "bluegreen" }));
    assert.equal(d.phase, "Succeeded", `${d.reason} ${d.message}`);
    assert.equal(calls, 2);
    const types = (await w.events(d)).map((e) => e.type);
    assert.ok(types.includes("Retrying") && !types.includes("FoundAfterError"), types.join(" "));
    assert.deepEqual(live(await w.taskSets()).map((s) => s.status), ["PRIMARY"]);
  });

  it("rolling: the service made, then HTTP 500 — found by name and revision, followed to the end", async () => {
    const w = (world = await engine());
    const requests: EcsRequest[] = [];
    const aws = withEcs(w.sim.portsFactory(), (ecs) => ({
      createService: async (request) => {
        requests.push(request);
        await ecs.createService(request);
        throw html500("CreateService");
      },
    }));
    const runner = new Runner({ store: w.store, aws, clock: w.clock });
    const d = await runner.run(await runner.create(rollingSpec("api", "api:1"), { strategy: "rolling" }));
    assert.equal(d.phase, "Succeeded", `${d.reason} ${d.message}`);
    assert.equal(requests.length, 1);
    assert.ok((await w.events(d)).some((e) => e.type === "FoundAfterError" && /^CreateService failed .* but its service api exists/.test(e.message)));
  });

  it("throttling says nothing was made: no look, the call is simply repeated", async () => {
    const w = (world = await bgWorld());
    await w.deploy(bgSpec(w, "web:1"));
    let creates = 0;
    let looks = 0;
    const aws = withEcs(w.sim.portsFactory(), (ecs) => ({
      createTaskSet: async (input) => {
        if (++creates === 1) throw new AwsError({ name: "ThrottlingException", message: "Rate exceeded", service: "ECS", operation: "CreateTaskSet", httpStatus: 400 });
        return ecs.createTaskSet(input);
      },
      describeTaskSets: (input) => {
        looks++;
        return ecs.describeTaskSets(input);
      },
    }));
    const runner = new Runner({ store: w.store, aws, clock: w.clock });
    const before = looks;
    const d = await runner.run(await runner.create(bgSpec(w, "web:2"), { strategy: "bluegreen" }));
    assert.equal(d.phase, "Succeeded", `${d.reason} ${d.message}`);
    assert.equal(creates, 2);
    assert.ok(!(await w.events(d)).some((e) => e.type === "FoundAfterError"));
    // The machine reads the task sets itself (before creating green, around the promotion); the throttled create adds no read.
    const plain = await bgWorld();
    await plain.deploy(bgSpec(plain, "web:1"));
    let plainLooks = 0;
    const counting = new Runner({ store: plain.store, aws: withEcs(plain.sim.portsFactory(), (ecs) => ({ describeTaskSets: (input) => (plainLooks++, ecs.describeTaskSets(input)) })), clock: plain.clock });
    await counting.run(await counting.create(bgSpec(plain, "web:2"), { strategy: "bluegreen" }));
    await plain.close();
    assert.equal(looks - before, plainLooks);
  });
});

describe("an endpoint that stops answering in the middle of a blue/green deployment", () => {
  it("retries run out at 20% on green: traffic goes back to blue, green is deleted, RolledBack with AwsUnavailable", async () => {
    const w = (world = await bgWorld());
    await w.deploy(bgSpec(w, "web:1"));
    let shifted = false;
    const ecsDown = withEcs(w.sim.portsFactory(), (ecs) => ({
      describeServices: (cluster, names) => (shifted ? Promise.reject(html500("DescribeServices")) : ecs.describeServices(cluster, names)),
      describeTaskSets: (input) => (shifted ? Promise.reject(html500("DescribeTaskSets")) : ecs.describeTaskSets(input)),
    }));
    const aws = withElbv2(ecsDown, (elb) => ({
      modifyListener: async (input) => {
        const out = await elb.modifyListener(input);
        shifted = true;
        return out;
      },
    }));
    const runner = new Runner({ store: w.store, aws, clock: w.clock });
    const d = await runner.run(await runner.create(bgSpec(w, "web:2"), { strategy: "bluegreen" }));
    assert.equal(d.phase, "RolledBack", `${d.reason} ${d.message}`);
    assert.equal(d.reason, "AwsUnavailable");
    assert.match(d.message ?? "", /^DescribeServices: InvalidResponse: the endpoint answered HTTP 500 .*\(gave up after 8 retries\); blue serves all traffic; the green task set was deleted$/);
    const types = (await w.events(d)).map((e) => e.type);
    assert.ok(types.includes("Shifted") && types.includes("RestoringBlue") && types.includes("TrafficRestored"), types.join(" "));
    assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 });
    assert.deepEqual(live(await w.taskSets()).map((s) => [s.status, s.targetGroups]), [["PRIMARY", ["web-blue"]]]);
  });
});

describe("what a failed first blue/green deployment leaves behind", () => {
  it("Given a new service whose green never starts, When it fails, Then green is deleted and the next deployment starts clean", async () => {
    const w = (world = await bgWorld({ faults: { images: [{ image: "web:bad", pullFails: true }] } }));
    const failed = await w.deploy(bgSpec(w, "web:bad"));
    assert.equal(failed.phase, "Failed", `${failed.reason} ${failed.message}`);
    assert.match(failed.message ?? "", /; the green task set was deleted$/);
    assert.deepEqual(live(await w.taskSets()), []);
    const next = await w.deploy(bgSpec(w, "web:1"));
    assert.equal(next.phase, "Succeeded", `${next.reason} ${next.message}`);
    assert.deepEqual(live(await w.taskSets()).map((s) => [s.status, s.targetGroups]), [["PRIMARY", ["web-blue"]]]);
  });
});
