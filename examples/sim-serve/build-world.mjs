// Build the AWS side of a small shop with the AWS SDK v3, as you would against a real account:
// the default VPC's subnets and security group, an ECS cluster, an Application Load Balancer with
// a blue/green pair of target groups and one for a rolling service, and an alarm. Point it at
// `flotilla sim serve` with AWS_ENDPOINT_URL (the SDK reads it itself) and any credentials:
//
//   AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_REGION=us-east-1 \
//   AWS_ACCESS_KEY_ID=simulator AWS_SECRET_ACCESS_KEY=simulator node examples/sim-serve/build-world.mjs
//
// It prints what the svcdefs and depdefs refer to (ARNs, subnets, security group) as JSON.
// Needs @aws-sdk/client-{ecs,elastic-load-balancing-v2,cloudwatch,ec2}; a Flotilla checkout has them.
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { CreateClusterCommand, ECSClient } from "@aws-sdk/client-ecs";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";

const ec2 = new EC2Client({});
const ecs = new ECSClient({});
const elb = new ElasticLoadBalancingV2Client({});
const cloudwatch = new CloudWatchClient({});

const vpcId = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }))).Vpcs[0].VpcId;
const subnets = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }, { Name: "default-for-az", Values: ["true"] }] }))).Subnets.map((s) => s.SubnetId);
const securityGroup = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }, { Name: "group-name", Values: ["default"] }] }))).SecurityGroups[0].GroupId;

const cluster = (await ecs.send(new CreateClusterCommand({ clusterName: "shop" }))).cluster.clusterArn;
const loadBalancer = (await elb.send(new CreateLoadBalancerCommand({ Name: "shop-public", Subnets: subnets, SecurityGroups: [securityGroup] }))).LoadBalancers[0];

const targetGroups = {};
for (const name of ["web-blue", "web-green", "api"]) {
  const group = await elb.send(
    new CreateTargetGroupCommand({ Name: name, Protocol: "HTTP", Port: 8080, TargetType: "ip", VpcId: vpcId, HealthCheckPath: "/healthz", HealthCheckIntervalSeconds: 10, HealthyThresholdCount: 3 }),
  );
  targetGroups[name] = group.TargetGroups[0].TargetGroupArn;
  // Draining takes 30 s instead of ALB's default 300 s.
  await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: targetGroups[name], Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "30" }] }));
}

const forward = (weights) => [{ Type: "forward", ForwardConfig: { TargetGroups: Object.entries(weights).map(([name, Weight]) => ({ TargetGroupArn: targetGroups[name], Weight })) } }];
const web = await elb.send(new CreateListenerCommand({ LoadBalancerArn: loadBalancer.LoadBalancerArn, Port: 80, Protocol: "HTTP", DefaultActions: forward({ "web-blue": 100, "web-green": 0 }) }));
const api = await elb.send(new CreateListenerCommand({ LoadBalancerArn: loadBalancer.LoadBalancerArn, Port: 8080, Protocol: "HTTP", DefaultActions: forward({ api: 1 }) }));

await cloudwatch.send(
  new PutMetricAlarmCommand({
    AlarmName: "web-5xx",
    Namespace: "AWS/ApplicationELB",
    MetricName: "HTTPCode_Target_5XX_Count",
    Dimensions: [{ Name: "LoadBalancer", Value: loadBalancer.LoadBalancerArn.split(":loadbalancer/")[1] }],
    Statistic: "Sum",
    Period: 60,
    EvaluationPeriods: 2,
    Threshold: 10,
    ComparisonOperator: "GreaterThanThreshold",
    TreatMissingData: "notBreaching",
  }),
);
// A new alarm is INSUFFICIENT_DATA; the simulator has no metrics, so say how it stands.
await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: "web-5xx", StateValue: "OK", StateReason: "no 5xx responses" }));

console.log(
  JSON.stringify(
    { cluster, subnets, securityGroup, loadBalancer: loadBalancer.DNSName, targetGroups, listeners: { web: web.Listeners[0].ListenerArn, api: api.Listeners[0].ListenerArn }, alarms: ["web-5xx"] },
    null,
    2,
  ),
);
