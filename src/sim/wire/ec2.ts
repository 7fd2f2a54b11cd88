/**
 * EC2's describe calls for the account's default VPC (src/sim/vpc.ts), in the ec2 query protocol:
 * enough for tools that look up the default VPC, its subnets and security group before creating
 * load balancers and services. Nothing here changes; the simulator does not model networking.
 */
import { defaultVpc, type DefaultVpc } from "../vpc.ts";
import { xmlEscape } from "./serde.ts";
import { WireError } from "./errors.ts";

interface Resource {
  /** Filter name → the values it matches. */
  fields: Record<string, string[]>;
  xml: string;
}

interface Kind {
  set: string;
  idParam: string;
  notFound: (id: string) => WireError;
  resources: (vpc: DefaultVpc, region: string) => Resource[];
}

const el = (tag: string, v: string | number | boolean) => `<${tag}>${xmlEscape(String(v))}</${tag}>`;

const KINDS: Record<string, Kind> = {
  DescribeVpcs: {
    set: "vpcSet",
    idParam: "VpcId",
    notFound: (id) => new WireError("InvalidVpcID.NotFound", `The vpc ID '${id}' does not exist`, 400),
    resources: (vpc) => [
      {
        fields: { "vpc-id": [vpc.vpcId], "is-default": ["true"], isDefault: ["true"], state: ["available"], cidr: [vpc.cidrBlock], "cidr-block-association.cidr-block": [vpc.cidrBlock], "owner-id": [vpc.ownerId], "dhcp-options-id": [vpc.dhcpOptionsId] },
        xml:
          el("vpcId", vpc.vpcId) +
          el("ownerId", vpc.ownerId) +
          el("state", "available") +
          el("cidrBlock", vpc.cidrBlock) +
          `<cidrBlockAssociationSet><item>${el("cidrBlock", vpc.cidrBlock)}${el("associationId", vpc.cidrAssociationId)}<cidrBlockState>${el("state", "associated")}</cidrBlockState></item></cidrBlockAssociationSet>` +
          el("dhcpOptionsId", vpc.dhcpOptionsId) +
          el("instanceTenancy", "default") +
          el("isDefault", true) +
          "<tagSet/>",
      },
    ],
  },
  DescribeSubnets: {
    set: "subnetSet",
    idParam: "SubnetId",
    notFound: (id) => new WireError("InvalidSubnetID.NotFound", `The subnet ID '${id}' does not exist`, 400),
    resources: (vpc, region) =>
      vpc.subnets.map((s) => ({
        fields: {
          "subnet-id": [s.subnetId],
          "vpc-id": [vpc.vpcId],
          "default-for-az": ["true"],
          defaultForAz: ["true"],
          "availability-zone": [s.availabilityZone],
          availabilityZone: [s.availabilityZone],
          "availability-zone-id": [s.availabilityZoneId],
          state: ["available"],
          "cidr-block": [s.cidrBlock],
          cidrBlock: [s.cidrBlock],
          cidr: [s.cidrBlock],
          "owner-id": [vpc.ownerId],
          "map-public-ip-on-launch": ["true"],
        },
        xml:
          el("subnetId", s.subnetId) +
          el("subnetArn", `arn:aws:ec2:${region}:${vpc.ownerId}:subnet/${s.subnetId}`) +
          el("state", "available") +
          el("ownerId", vpc.ownerId) +
          el("vpcId", vpc.vpcId) +
          el("cidrBlock", s.cidrBlock) +
          el("availableIpAddressCount", 4091) +
          el("availabilityZone", s.availabilityZone) +
          el("availabilityZoneId", s.availabilityZoneId) +
          el("defaultForAz", true) +
          el("mapPublicIpOnLaunch", true) +
          el("assignIpv6AddressOnCreation", false) +
          "<ipv6CidrBlockAssociationSet/><tagSet/>",
      })),
  },
  DescribeSecurityGroups: {
    set: "securityGroupInfo",
    idParam: "GroupId",
    notFound: (id) => new WireError("InvalidGroup.NotFound", `The security group '${id}' does not exist`, 400),
    resources: (vpc) => [
      {
        fields: { "group-id": [vpc.securityGroupId], "group-name": ["default"], "vpc-id": [vpc.vpcId], "owner-id": [vpc.ownerId], description: ["default VPC security group"] },
        xml:
          el("ownerId", vpc.ownerId) +
          el("groupId", vpc.securityGroupId) +
          el("groupName", "default") +
          el("groupDescription", "default VPC security group") +
          el("vpcId", vpc.vpcId) +
          `<ipPermissions><item>${el("ipProtocol", "-1")}<groups><item>${el("userId", vpc.ownerId)}${el("groupId", vpc.securityGroupId)}</item></groups><ipRanges/><ipv6Ranges/><prefixListIds/></item></ipPermissions>` +
          `<ipPermissionsEgress><item>${el("ipProtocol", "-1")}<groups/><ipRanges><item>${el("cidrIp", "0.0.0.0/0")}</item></ipRanges><ipv6Ranges/><prefixListIds/></item></ipPermissionsEgress>` +
          "<tagSet/>",
      },
    ],
  },
  DescribeAvailabilityZones: {
    set: "availabilityZoneInfo",
    idParam: "ZoneId",
    notFound: (id) => new WireError("InvalidParameterValue", `Invalid availability zone: [${id}]`, 400),
    resources: (vpc, region) =>
      vpc.subnets.map((s) => ({
        fields: { "zone-id": [s.availabilityZoneId], "zone-name": [s.availabilityZone], state: ["available"], "region-name": [region], "zone-type": ["availability-zone"] },
        xml:
          el("zoneName", s.availabilityZone) +
          el("zoneId", s.availabilityZoneId) +
          el("zoneState", "available") +
          el("regionName", region) +
          el("zoneType", "availability-zone") +
          el("optInStatus", "opt-in-not-required") +
          "<messageSet/>",
      })),
  },
};

export const EC2_OPERATIONS = new Set(Object.keys(KINDS));

/** The ec2 query protocol's lists: `Name.1`, `Name.2`, ... */
function numbered(params: URLSearchParams, base: string): string[] {
  const out: string[] = [];
  for (let i = 1; params.has(`${base}.${i}`); i++) out.push(params.get(`${base}.${i}`)!);
  return out;
}

/** The response document of one of EC2's describe calls for the default VPC. */
export function ec2Describe(operation: string, params: URLSearchParams, region: string, account: string, requestId: string): string {
  const kind = KINDS[operation];
  if (!kind) throw new WireError("InvalidAction", `The action ${operation} is not valid for this web service.`, 400);
  const vpc = defaultVpc(region, account);
  let items = kind.resources(vpc, region);
  // DescribeAvailabilityZones names zones by ZoneName too.
  const ids = [...numbered(params, kind.idParam), ...(operation === "DescribeAvailabilityZones" ? numbered(params, "ZoneName") : operation === "DescribeSecurityGroups" ? numbered(params, "GroupName") : [])];
  for (const id of ids) if (!items.some((r) => Object.values(r.fields).some((v) => v.includes(id)))) throw kind.notFound(id);
  if (ids.length > 0) items = items.filter((r) => ids.some((id) => Object.values(r.fields).some((v) => v.includes(id))));
  for (let i = 1; params.has(`Filter.${i}.Name`); i++) {
    const name = params.get(`Filter.${i}.Name`)!;
    const values = numbered(params, `Filter.${i}.Value`);
    if (name.startsWith("tag:") || name === "tag-key") {
      items = []; // the default VPC's resources carry no tags
      continue;
    }
    if (!items.every((r) => name in r.fields) && !kind.resources(vpc, region).some((r) => name in r.fields)) {
      throw new WireError("InvalidParameterValue", `The filter '${name}' is invalid`, 400);
    }
    const patterns = values.map((v) => new RegExp("^" + v.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$"));
    items = items.filter((r) => (r.fields[name] ?? []).some((f) => patterns.some((p) => p.test(f))));
  }
  const body = items.map((r) => `<item>${r.xml}</item>`).join("");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">${el("requestId", requestId)}<${kind.set}>${body}</${kind.set}></${operation}Response>\n`;
}
