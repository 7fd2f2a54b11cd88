/**
 * Endpoint selection is the SDK's own: AWS_ENDPOINT_URL for every service, overridden per
 * service by AWS_ENDPOINT_URL_ECS, AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 and
 * AWS_ENDPOINT_URL_CLOUDWATCH. This pins that our clients leave it to the SDK.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClients } from "../../src/aws/sdk/index.ts";
import { createSdkPorts } from "../../src/aws/sdk/index.ts";
import { VirtualClock } from "../../src/core/clock.ts";

describe("endpoints", () => {
  it("honours AWS_ENDPOINT_URL and the per-service variables", async () => {
    const seen: string[] = [];
    const requestHandler = {
      handle: (req: { hostname: string; port?: number }) => {
        seen.push(`${req.hostname}:${req.port ?? ""}`);
        return Promise.reject(Object.assign(new Error("stop here"), { name: "AccessDeniedException" }));
      },
    };
    const saved = { ...process.env };
    process.env["AWS_ENDPOINT_URL"] = "http://everything.test:4566";
    process.env["AWS_ENDPOINT_URL_ECS"] = "http://ecs-only.test:4567";
    delete process.env["AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2"];
    delete process.env["AWS_ENDPOINT_URL_CLOUDWATCH"];
    delete process.env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"];
    try {
      const clients = createClients("eu-west-1", undefined, { requestHandler, credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" } });
      const ports = createSdkPorts({ region: "eu-west-1", clock: new VirtualClock({ autoAdvance: true }), clients });
      await assert.rejects(ports.ecs.describeTaskDefinition("x"), { name: "AccessDeniedException" });
      await assert.rejects(ports.elbv2.describeTargetHealth("arn"), { name: "AccessDeniedException" });
      await assert.rejects(ports.cloudwatch.describeAlarms(["a"]), { name: "AccessDeniedException" });
      assert.deepEqual(seen, ["ecs-only.test:4567", "everything.test:4566", "everything.test:4566"]);
    } finally {
      process.env = saved;
    }
  });
});
