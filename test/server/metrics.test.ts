import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { finish, harness, newDeployment, SHA1, type Harness } from "./helpers.ts";

describe("API: /metrics", () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  const scrape = async () => {
    const r = await h.req({ method: "GET", url: "/metrics", token: null });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
    return r.payload;
  };

  it("exposes every series, without authentication", async () => {
    const text = await scrape();
    for (const name of [
      "flotilla_deployments_total",
      "flotilla_deployment_duration_seconds",
      "flotilla_aws_calls_total",
      "flotilla_aws_throttles_total",
      "flotilla_queue_depth",
      "flotilla_last_processed_commit_age_seconds",
      "flotilla_deployments_active",
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, "m"), name);
    }
  });

  it("counts deployments by result and strategy, with durations", async () => {
    const d = await h.store.createDeployment(newDeployment({ strategy: "bluegreen" }));
    await h.clock.advance(90_000);
    h.metrics.deploymentFinished(await finish(h.store, d));
    const rolled = await h.store.createDeployment(newDeployment());
    await h.clock.advance(20_000);
    h.metrics.deploymentFinished(await finish(h.store, rolled, "RolledBack"));
    h.metrics.deploymentFinished(await h.store.createDeployment(newDeployment())); // not finished: ignored
    const text = await scrape();
    assert.match(text, /^flotilla_deployments_total\{result="succeeded",strategy="bluegreen"\} 1$/m);
    assert.match(text, /^flotilla_deployments_total\{result="rolled_back",strategy="rolling"\} 1$/m);
    assert.match(text, /^flotilla_deployment_duration_seconds_bucket\{le="60",result="succeeded",strategy="bluegreen"\} 0$/m);
    assert.match(text, /^flotilla_deployment_duration_seconds_bucket\{le="120",result="succeeded",strategy="bluegreen"\} 1$/m);
    assert.match(text, /^flotilla_deployment_duration_seconds_sum\{result="succeeded",strategy="bluegreen"\} 90$/m);
    assert.match(text, /^flotilla_deployments_active\{strategy="rolling"\} 1$/m);
  });

  it("counts AWS calls and throttles by operation, and the queue depth the controller sets", async () => {
    h.metrics.awsCall("ecs", "DescribeServices", false);
    h.metrics.awsCall("ecs", "DescribeServices", true);
    h.metrics.awsCall("elbv2", "ModifyListener", false);
    h.metrics.setQueueDepth(3);
    h.metrics.setQueueDepth(2, "app");
    const text = await scrape();
    assert.match(text, /^flotilla_aws_calls_total\{service="ecs",operation="DescribeServices"\} 2$/m);
    assert.match(text, /^flotilla_aws_throttles_total\{service="ecs",operation="DescribeServices"\} 1$/m);
    assert.match(text, /^flotilla_aws_calls_total\{service="elbv2",operation="ModifyListener"\} 1$/m);
    assert.doesNotMatch(text, /flotilla_aws_throttles_total\{service="elbv2"/);
    assert.match(text, /^flotilla_queue_depth\{repository=""\} 3$/m);
    assert.match(text, /^flotilla_queue_depth\{repository="app"\} 2$/m);
  });

  it("reports the age of each repository's last processed commit, and no secret", async () => {
    await h.store.addRepository({ name: "app", url: "https://github.com/acme/app.git", branch: "main", credentials: "github" });
    await h.store.addRepository({ name: "never", url: "/srv/never", branch: "main" });
    await h.store.setLastCommit("app", "main", SHA1);
    await h.clock.advance(45_000);
    const text = await scrape();
    assert.match(text, /^flotilla_last_processed_commit_age_seconds\{repository="app",branch="main"\} 45$/m);
    assert.doesNotMatch(text, /repository="never"/);
    assert.ok(!text.includes(h.operator) && !text.includes(h.reader));
    assert.ok(!text.includes("github.com") && !text.includes("GIT_TOKEN"), "labels carry names only");
  });
});
