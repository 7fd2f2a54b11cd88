/**
 * The account's default VPC in the simulated Region: one VPC, a default subnet in each of three
 * Availability Zones and the VPC's default security group. The simulator does not model networking;
 * these identities exist so that tools which look up the default VPC (EC2 DescribeVpcs,
 * DescribeSubnets, DescribeSecurityGroups) and load balancers (VpcId, subnets) agree. Ids are
 * derived from the account and Region, so they are the same on every run.
 */
import { nameHash } from "./ids.ts";

export interface DefaultSubnet {
  subnetId: string;
  availabilityZone: string;
  availabilityZoneId: string;
  cidrBlock: string;
}

export interface DefaultVpc {
  vpcId: string;
  cidrBlock: string;
  cidrAssociationId: string;
  dhcpOptionsId: string;
  ownerId: string;
  subnets: DefaultSubnet[];
  securityGroupId: string;
}

/** EC2's 17-hex-digit resource ids, stable per account, Region and role. */
function resourceId(prefix: string, seed: string): string {
  return `${prefix}-${(nameHash(seed) + nameHash(`${seed}#`)).slice(0, 17)}`;
}

/** `us-east-1` → `use1`, the prefix of Availability Zone ids. */
function zoneIdPrefix(region: string): string {
  const [geo = "", direction = "", n = ""] = region.split("-");
  return `${geo}${direction.slice(0, 1)}${n}`;
}

export function defaultVpc(region: string, account: string): DefaultVpc {
  const seed = `${account}:${region}`;
  return {
    vpcId: resourceId("vpc", `${seed}:vpc`),
    cidrBlock: "172.31.0.0/16",
    cidrAssociationId: resourceId("vpc-cidr-assoc", `${seed}:cidr`),
    dhcpOptionsId: resourceId("dopt", `${seed}:dhcp`),
    ownerId: account,
    subnets: ["a", "b", "c"].map((letter, i) => ({
      subnetId: resourceId("subnet", `${seed}:subnet:${letter}`),
      availabilityZone: `${region}${letter}`,
      availabilityZoneId: `${zoneIdPrefix(region)}-az${i + 1}`,
      cidrBlock: `172.31.${i * 16}.0/20`,
    })),
    securityGroupId: resourceId("sg", `${seed}:sg:default`),
  };
}
