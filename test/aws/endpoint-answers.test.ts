/**
 * What AWS-compatible endpoints answer when something other than the API speaks: moto's server
 * answers an operation it does not implement (or crashes on) with Flask's HTML 500 page, LocalStack
 * answers 501 with a JSON InternalFailure, a proxy answers an empty 502 or a 404 page. The adapter
 * must turn each into an AwsError that names the operation, the HTTP status and what came back —
 * not the SDK's "SyntaxError ... inspect the hidden field {error}.$response" — and must not retry
 * what cannot get better. A loopback HTTP server plays the endpoint; the real SDK clients talk to it.
 */
import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { VirtualClock } from "../../src/core/clock.ts";
import { createClients, createSdkPorts } from "../../src/aws/sdk/index.ts";
import { AwsError } from "../../src/aws/errors.ts";
import type { AwsPorts } from "../../src/aws/ports.ts";

interface Answer {
  status: number;
  type?: string;
  body: string;
}

const MOTO_500 =
  '<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.</p>\n';

let server: Server;
let url = "";
let answer: Answer = { status: 200, body: "{}" };
let requests: string[] = [];
/** Per-operation answers, where one test needs more than one. */
let byOperation: Record<string, Answer> = {};

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      requests.push(String(req.headers["x-amz-target"] ?? /Action=(\w+)/.exec(body)?.[1] ?? "?"));
      const a = byOperation[requests.at(-1)!] ?? answer;
      res.writeHead(a.status, a.type ? { "content-type": a.type } : {});
      res.end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  requests = [];
  byOperation = {};
});

function ports(): AwsPorts {
  const clock = new VirtualClock({ start: 0, autoAdvance: true });
  return createSdkPorts({ region: "us-east-1", clock, random: () => 0, clients: createClients("us-east-1", url, { credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" } }) });
}

async function failure(call: () => Promise<unknown>): Promise<AwsError> {
  try {
    await call();
  } catch (e) {
    assert.ok(e instanceof AwsError, `an AwsError, not ${String(e)}`);
    return e;
  }
  return assert.fail("the call succeeded");
}

describe("answers that are not AWS's", () => {
  it("an HTML 500 page (moto's answer for an operation it does not implement) names the operation, the status and the page's text, and is retried as a 5xx", async () => {
    answer = { status: 500, type: "text/html; charset=utf-8", body: MOTO_500 };
    const e = await failure(() => ports().ecs.describeTaskDefinition("web:1"));
    assert.equal(e.name, "InvalidResponse");
    assert.equal(e.operation, "DescribeTaskDefinition");
    assert.equal(e.httpStatus, 500);
    assert.equal(e.retryable, true);
    assert.match(e.message, /^the endpoint answered HTTP 500 \(text\/html\), not an AWS answer: 500 Internal Server Error Internal Server Error The server encountered an internal error/);
    assert.match(e.message, / — AWS-compatible endpoints answer so for an operation they do not implement or fail on \(see the endpoint's log for DescribeTaskDefinition\)$/);
    assert.doesNotMatch(e.message, /Deserialization error|SyntaxError|\$response|\n/);
    assert.equal(requests.length, 4, "5xx: the adapter's four attempts");
  });

  it("the same page from ELBv2 (Query/XML) and CloudWatch (JSON 1.0) reads the same", async () => {
    answer = { status: 500, type: "text/html", body: MOTO_500 };
    const p = ports();
    for (const [call, op] of [
      [() => p.elbv2.describeTargetHealth("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1"), "DescribeTargetHealth"],
      [() => p.cloudwatch.describeAlarms(["web-5xx"]), "DescribeAlarms"],
    ] as const) {
      const e = await failure(call);
      assert.deepEqual([e.name, e.operation, e.httpStatus, e.retryable], ["InvalidResponse", op, 500, true]);
      assert.match(e.message, /HTTP 500 \(text\/html\), not an AWS answer: 500 Internal Server Error/);
    }
  });

  it("an empty 502 says so", async () => {
    answer = { status: 502, body: "" };
    const e = await failure(() => ports().ecs.describeTaskDefinition("web:1"));
    assert.equal(e.name, "InvalidResponse");
    assert.match(e.message, /^the endpoint answered HTTP 502, not an AWS answer, an empty body/);
    assert.equal(e.retryable, true);
  });

  it("LocalStack's 501 InternalFailure keeps the endpoint's code and message and is not retried", async () => {
    answer = { status: 501, type: "application/x-amz-json-1.1", body: JSON.stringify({ __type: "InternalFailure", message: "API action 'ListServiceDeployments' for service 'ecs' not yet implemented" }) };
    const e = await failure(() => ports().ecs.listServiceDeployments({ cluster: "shop", service: "web" }));
    assert.deepEqual([e.name, e.httpStatus, e.retryable], ["InternalFailure", 501, false]);
    assert.match(e.message, /not yet implemented/);
    assert.equal(requests.length, 1);
  });

  it("a 501 page without an AWS error is NotImplemented, asked once", async () => {
    answer = { status: 501, type: "text/html", body: "<html><body><h1>Not Implemented</h1></body></html>" };
    const e = await failure(() => ports().elbv2.describeRules({ listenerArn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/a/1/2" }));
    assert.deepEqual([e.name, e.httpStatus, e.retryable], ["NotImplemented", 501, false]);
    assert.match(e.message, /HTTP 501 \(text\/html\), not an AWS answer: Not Implemented/);
    assert.equal(requests.length, 1);
  });

  it("a 404 text page (an endpoint URL that is not an AWS endpoint) is not retried", async () => {
    answer = { status: 404, type: "text/plain", body: "Not Found" };
    const e = await failure(() => ports().ecs.describeTaskDefinition("web:1"));
    assert.deepEqual([e.name, e.httpStatus, e.retryable], ["InvalidResponse", 404, false]);
    assert.match(e.message, /^the endpoint answered HTTP 404 \(text\/plain\), not an AWS answer: Not Found$/);
    assert.equal(requests.length, 1);
  });

  it("a JSON error without __type passes its body on", async () => {
    answer = { status: 400, type: "application/x-amz-json-1.1", body: JSON.stringify({ message: "Unknown cluster shop" }) };
    const e = await failure(() => ports().ecs.describeTaskDefinition("web:1"));
    assert.deepEqual([e.name, e.retryable], ["InvalidResponse", false]);
    assert.match(e.message, /HTTP 400 \(application\/x-amz-json-1\.1\), not an AWS answer: \{"message":"Unknown cluster shop"\}/);
  });

  it("AWS-shaped errors and answers are untouched", async () => {
    answer = { status: 400, type: "application/x-amz-json-1.1", body: JSON.stringify({ __type: "ClientException", message: "Unable to describe task definition." }) };
    const e = await failure(() => ports().ecs.describeTaskDefinition("web:1"));
    assert.deepEqual([e.name, e.message, e.retryable], ["ClientException", "Unable to describe task definition.", false]);
    answer = {
      status: 400,
      type: "text/xml",
      body: "<ErrorResponse><Error><Type>Sender</Type><Code>TargetGroupNotFound</Code><Message>One or more target groups not found</Message></Error><RequestId>r</RequestId></ErrorResponse>",
    };
    const x = await failure(() => ports().elbv2.describeTargetHealth("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1"));
    assert.deepEqual([x.name, x.message], ["TargetGroupNotFound", "One or more target groups not found"]);
    answer = { status: 200, type: "application/x-amz-json-1.1", body: JSON.stringify({ taskDefinition: { taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1", family: "web", revision: 1, containerDefinitions: [] } }) };
    assert.equal((await ports().ecs.describeTaskDefinition("web:1")).revision, 1);
  });

  it("a create is not sent again after a 5xx (it may have been made: the deployment looks first), only after throttling", async () => {
    answer = { status: 500, type: "text/html", body: MOTO_500 };
    const input = { cluster: "shop", service: "web", taskDefinition: "web:2", externalId: "flotilla-1" };
    const e = await failure(() => ports().ecs.createTaskSet(input));
    assert.deepEqual([e.name, e.retryable], ["InvalidResponse", true], "still retryable: the deployment decides after looking");
    assert.equal(requests.length, 1);
    requests = [];
    answer = { status: 400, type: "application/x-amz-json-1.1", body: JSON.stringify({ __type: "ThrottlingException", message: "Rate exceeded" }) };
    await failure(() => ports().ecs.createTaskSet(input));
    assert.equal(requests.length, 12, "throttled: nothing was made, so the adapter retries");
    requests = [];
    answer = { status: 500, type: "text/html", body: MOTO_500 };
    await failure(() => ports().ecs.updateService({ cluster: "shop", service: "web", desiredCount: 2 }));
    assert.equal(requests.length, 4, "an update is safe to repeat");
  });

  it("an HTML page with a 200 status (a portal or proxy in the way) is an error, not an empty answer", async () => {
    answer = { status: 200, type: "text/html", body: "<html><title>Sign in to the network</title></html>" };
    const e = await failure(() => ports().ecs.describeTaskDefinition("web:1"));
    assert.deepEqual([e.name, e.httpStatus, e.retryable], ["InvalidResponse", 200, false]);
    assert.match(e.message, /HTTP 200 \(text\/html\), not an AWS answer: Sign in to the network/);
  });
});

describe("answers an endpoint gives where AWS would answer otherwise", () => {
  const tgXml = (name: string, port: number) =>
    `<DescribeTargetGroupsResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeTargetGroupsResult><TargetGroups><member><TargetGroupArn>arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}/abc</TargetGroupArn><TargetGroupName>${name}</TargetGroupName><Protocol>HTTP</Protocol><Port>${port}</Port><VpcId>vpc-1</VpcId><TargetType>ip</TargetType><LoadBalancerArns/></member></TargetGroups></DescribeTargetGroupsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeTargetGroupsResponse>`;
  const duplicate = { status: 400, type: "text/xml", body: "<ErrorResponse><Error><Type>Sender</Type><Code>DuplicateTargetGroupName</Code><Message>A target group with the specified name already exists.</Message></Error><RequestId>r</RequestId></ErrorResponse>" };
  const input = { name: "web-v2", protocol: "HTTP", port: 8080, vpcId: "vpc-1", targetType: "ip" };

  it("moto refuses a second CreateTargetGroup with the same name and settings; AWS answers the group: so does the adapter", async () => {
    byOperation = { CreateTargetGroup: duplicate, DescribeTargetGroups: { status: 200, type: "text/xml", body: tgXml("web-v2", 8080) } };
    const tg = await ports().elbv2.createTargetGroup(input);
    assert.deepEqual([tg.targetGroupName, tg.port, tg.targetGroupArn], ["web-v2", 8080, "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-v2/abc"]);
    assert.deepEqual(requests, ["CreateTargetGroup", "DescribeTargetGroups"]);
  });

  it("a group of that name with other settings is AWS's DuplicateTargetGroupName, passed on", async () => {
    byOperation = { CreateTargetGroup: duplicate, DescribeTargetGroups: { status: 200, type: "text/xml", body: tgXml("web-v2", 9090) } };
    const e = await failure(() => ports().elbv2.createTargetGroup(input));
    assert.deepEqual([e.name, e.operation], ["DuplicateTargetGroupName", "CreateTargetGroup"]);
  });
});
