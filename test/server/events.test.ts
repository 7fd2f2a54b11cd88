import { after, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { settle } from "../../src/core/clock.ts";
import { EventCursor, formatPosition, parsePosition } from "../../src/server/events.ts";
import { finish, harness, json, newDeployment, parseSse, SHA1, untilSleeping, type Harness, type SseMessage } from "./helpers.ts";

type Data = { deploymentId: string; seq: number; type: string; object: string };
const events = (payload: string) => parseSse(payload).filter((m): m is SseMessage & { data: Data; id: string } => m.event === "deployment");
const types = (payload: string) => events(payload).map((m) => m.data.type);

describe("API: server-sent events", () => {
  let h: Harness;
  beforeEach(async () => {
    await h?.close();
    h = await harness();
  });
  after(() => h.close());

  it("streams events appended after connecting, not those before", async () => {
    const d = await h.store.createDeployment(newDeployment(), [{ type: "Created", message: "before connecting" }]);
    const stream = h.req({ method: "GET", url: "/api/v1/events?limit=3", token: h.reader });
    await untilSleeping(h.clock);
    await h.store.appendEvents(d.id, [{ type: "Registering", message: "one" }]);
    await h.clock.advance(1000);
    await h.store.appendEvents(d.id, [{ type: "Deploying", message: "two" }]);
    const other = await h.store.createDeployment(newDeployment(), [{ type: "Created", message: "a deployment created after connecting" }]);
    await h.clock.advance(1000);
    const r = await stream;
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers["content-type"]), /^text\/event-stream/);
    assert.equal(r.headers["cache-control"], "no-cache, no-transform");
    assert.deepEqual(types(r.payload), ["Registering", "Deploying", "Created"]);
    assert.deepEqual(events(r.payload).map((m) => m.data.deploymentId), [d.id, d.id, other.id]);
    assert.equal(events(r.payload)[0]!.data.object, d.object);
  });

  it("filters by deployment and by object", async () => {
    const a = await h.store.createDeployment(newDeployment({ object: "dev/a/a" }));
    const b = await h.store.createDeployment(newDeployment({ object: "dev/b/b" }));
    const byDeployment = h.req({ method: "GET", url: `/api/v1/events?deployment=${a.id}&limit=2` });
    const byObject = h.req({ method: "GET", url: "/api/v1/events?object=dev/b/b&limit=2" });
    await untilSleeping(h.clock, 2);
    for (const n of [1, 2]) {
      await h.store.appendEvents(a.id, [{ type: `a${n}`, message: "" }]);
      await h.store.appendEvents(b.id, [{ type: `b${n}`, message: "" }]);
      await h.clock.advance(1000);
    }
    assert.deepEqual(types((await byDeployment).payload), ["a1", "a2"]);
    assert.deepEqual(types((await byObject).payload), ["b1", "b2"]);
  });

  it("delivers the last events of a deployment that finishes between two polls", async () => {
    const d = await h.store.createDeployment(newDeployment());
    const stream = h.req({ method: "GET", url: "/api/v1/events?limit=2" });
    await untilSleeping(h.clock);
    await h.store.appendEvents(d.id, [{ type: "Stabilizing", message: "" }]);
    await finish(h.store, d);
    await h.clock.advance(1000);
    assert.deepEqual(types((await stream).payload), ["Stabilizing", "Succeeded"]);
  });

  it("resumes after Last-Event-ID, exactly, even with parallel deployments writing in the same millisecond", async () => {
    const a = await h.store.createDeployment(newDeployment());
    const b = await h.store.createDeployment(newDeployment());
    const first = h.req({ method: "GET", url: "/api/v1/events?limit=3" });
    await untilSleeping(h.clock);
    // Same virtual millisecond for all four.
    await h.store.appendEvents(a.id, [{ type: "a1", message: "" }, { type: "a2", message: "" }]);
    await h.store.appendEvents(b.id, [{ type: "b1", message: "" }, { type: "b2", message: "" }]);
    await h.clock.advance(1000);
    const got = events((await first).payload);
    // Same millisecond: ordered by deployment id (ULIDs, so creation order), then seq.
    assert.ok(a.id < b.id);
    assert.deepEqual(got.map((m) => m.data.type), ["a1", "a2", "b1"]);
    const lastId = got.at(-1)!.id;

    // The client was disconnected; more happens meanwhile.
    await h.store.appendEvents(a.id, [{ type: "a3", message: "" }]);
    await h.clock.advance(500);
    await h.store.appendEvents(b.id, [{ type: "b3", message: "" }]);
    const resumed = await h.req({ method: "GET", url: "/api/v1/events?limit=3", headers: { "last-event-id": lastId } });
    const all = ["a1", "a2", "b1", "b2", "a3", "b3"];
    const delivered = [...got.map((m) => m.data.type), ...types(resumed.payload)];
    assert.deepEqual(delivered, all, "every event exactly once, in time order");
  });

  it("wakes at once on an in-process notification, without waiting for the next poll", async () => {
    const d = await h.store.createDeployment(newDeployment());
    const stream = h.req({ method: "GET", url: "/api/v1/events?limit=1" });
    await untilSleeping(h.clock);
    assert.equal(h.bus.size, 1);
    await h.store.appendEvents(d.id, [{ type: "Shifting", message: "20%" }]);
    h.bus.notify(d.id);
    assert.deepEqual(types((await stream).payload), ["Shifting"]);
    assert.equal(h.bus.size, 0, "the stream unsubscribed");
  });

  it("sends a keepalive comment when idle", async () => {
    const d = await h.store.createDeployment(newDeployment());
    const stream = h.req({ method: "GET", url: "/api/v1/events?limit=1" });
    await untilSleeping(h.clock);
    await h.clock.advance(6000);
    await h.store.appendEvents(d.id, [{ type: "Late", message: "" }]);
    await h.clock.advance(1000);
    const messages = parseSse((await stream).payload);
    assert.ok(messages.some((m) => m.comment === "keepalive"));
    assert.deepEqual(types((await stream).payload), ["Late"]);
  });

  it("closing the server ends open streams", async () => {
    const stream = h.req({ method: "GET", url: "/api/v1/events" });
    await untilSleeping(h.clock);
    await h.app.close();
    const r = await stream;
    assert.equal(r.statusCode, 200);
    assert.deepEqual(types(r.payload), []);
    h = await harness();
  });

  it("rejects a bad Last-Event-ID, an unknown deployment, bad filters and a missing token", async () => {
    const bad = await h.req({ method: "GET", url: "/api/v1/events", headers: { "last-event-id": "yesterday" } });
    assert.equal(bad.statusCode, 400);
    assert.equal(json(bad)["code"], "FLT-API-INVALID-REQUEST");
    assert.equal((await h.req({ method: "GET", url: "/api/v1/events?deployment=01ZZZZZZZZZZZZZZZZZZZZZZZZ" })).statusCode, 404);
    assert.equal((await h.req({ method: "GET", url: "/api/v1/events?limit=0" })).statusCode, 400);
    assert.equal((await h.req({ method: "GET", url: "/api/v1/events?since=1" })).statusCode, 400);
    assert.equal((await h.req({ method: "GET", url: "/api/v1/events", token: null })).statusCode, 401);
  });

  it("streams over a real socket as events happen", async () => {
    const address = await h.app.listen({ port: 0, host: "127.0.0.1" });
    const d = await h.store.createDeployment(newDeployment());
    const res = await fetch(`${address}/api/v1/events`, { headers: { authorization: `Bearer ${h.reader}` } });
    assert.equal(res.status, 200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const read = async (until: RegExp) => {
      while (!until.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended: ${text}`);
        text += decoder.decode(value);
      }
    };
    await read(/: connected/);
    await untilSleeping(h.clock);
    await h.store.appendEvents(d.id, [{ type: "Registering", message: "" }]);
    h.bus.notify(d.id);
    await read(/"type":"Registering"/);
    await reader.cancel();
    for (let i = 0; i < 100 && h.bus.size > 0; i++) await settle(2);
    assert.equal(h.bus.size, 0, "the stream stopped when the client went away");
  });
});

describe("event stream positions", () => {
  it("round-trip and reject foreign ids", () => {
    const p = { at: 1795435200000, seqs: new Map([["01ABC", 3], ["01ABD", 1]]) };
    assert.deepEqual(parsePosition(formatPosition(p)), p);
    assert.deepEqual(parsePosition("5~"), { at: 5, seqs: new Map() });
    const withCommits = { at: 7, seqs: new Map([["01ABC", 2]]), commitSeq: 42 };
    assert.deepEqual(parsePosition(formatPosition(withCommits)), withCommits);
    assert.equal(formatPosition(withCommits), "7~01ABC:2~c42");
    for (const bad of ["", "abc", "5", "5~x", "5~a:b", "5~a:1;drop", "5~~c", "5~c1"]) assert.equal(parsePosition(bad), undefined, bad);
    const withActivity = { at: 7, seqs: new Map(), commitSeq: 4, activitySeq: 9 };
    assert.equal(formatPosition(withActivity), "7~~c4~a9");
    assert.deepEqual(parsePosition("7~~c4~a9"), withActivity);
  });

  it("streams the controller's activity after what was recorded before connecting, resumable by its number, filtered by object", async () => {
    const h = await harness();
    await h.store.appendActivity({ type: "commit-waiting", repository: "app", object: null, sha: SHA1, message: "before connecting", data: null });
    const cursor = await EventCursor.fromNow(h.store, {}, h.clock.now());
    const byObject = await EventCursor.fromNow(h.store, { object: "dev/web" }, h.clock.now());
    const onlyDeployments = await EventCursor.fromNow(h.store, { type: "deployment" }, h.clock.now());
    await h.clock.advance(5);
    await h.store.appendActivity({ type: "window-override", repository: "app", object: null, sha: SHA1, message: "released by alice", data: { setBy: "alice" } });
    await h.store.appendActivity({ type: "drift-detected", repository: "app", object: "dev/web/web", sha: SHA1, message: "desiredCount", data: null });
    const got = await cursor.poll();
    assert.deepEqual(got.map((s) => (s.kind === "activity" ? s.activity.type : s.kind)), ["window-override", "drift-detected"]);
    assert.deepEqual((await byObject.poll()).map((s) => (s.kind === "activity" ? s.activity.object : s.kind)), ["dev/web/web"]);
    assert.deepEqual(await onlyDeployments.poll(), []);
    const resumed = EventCursor.resume(h.store, {}, parsePosition(got[0]!.id)!);
    assert.deepEqual((await resumed.poll()).map((s) => (s.kind === "activity" ? s.activity.type : s.kind)), ["drift-detected"]);
    await h.close();
  });

  it("a cursor from now skips stored events and orders new ones by time, deployment, seq", async () => {
    const h = await harness();
    const a = await h.store.createDeployment(newDeployment(), [{ type: "old", message: "" }]);
    const cursor = await EventCursor.fromNow(h.store, {}, h.clock.now());
    assert.deepEqual(await cursor.poll(), []);
    await h.clock.advance(10);
    const b = await h.store.createDeployment(newDeployment(), [{ type: "b1", message: "" }]);
    await h.store.appendEvents(a.id, [{ type: "a2", message: "" }]);
    const got = await cursor.poll();
    assert.deepEqual(got.map((s) => (s.kind === "deployment" ? s.event.type : s.kind)), a.id < b.id ? ["a2", "b1"] : ["b1", "a2"]);
    assert.deepEqual(await cursor.poll(), []);
    await h.close();
  });
  it("the phase sent with an event is never older than the event, even when the deployment finishes while the cursor reads", async () => {
    const h = await harness();
    const d = await h.store.createDeployment(newDeployment());
    let finishOnRead = true;
    // The runner writes its last step between the cursor reading the deployment and reading its events.
    const racing = new Proxy(h.store, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (key !== "listEvents") return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        return async (id: string, options?: { afterSeq?: number }) => {
          if (finishOnRead) {
            finishOnRead = false;
            await finish(target, d);
          }
          return target.listEvents(id, options);
        };
      },
    });
    const cursor = EventCursor.resume(racing, { deployment: d.id }, { at: 0, seqs: new Map() });
    const got = await cursor.poll();
    assert.deepEqual(got.map((s) => (s.kind === "deployment" ? [s.event.type, s.deployment.phase] : [s.kind])), [["Succeeded", "Succeeded"]], "a watcher told 'Succeeded' with an older phase waits forever");
    await h.close();
  });
});
