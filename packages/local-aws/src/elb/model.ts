/** ELBv2 resources as DescribeX returns them (query members, PascalCase). */

export interface TargetGroupTuple {
  TargetGroupArn: string;
  Weight?: number;
}

export interface ElbAction {
  Type: string;
  TargetGroupArn?: string;
  Order?: number;
  ForwardConfig?: {
    TargetGroups: TargetGroupTuple[];
    TargetGroupStickinessConfig?: { Enabled?: boolean; DurationSeconds?: number };
  };
  FixedResponseConfig?: { StatusCode: string; ContentType?: string; MessageBody?: string };
  RedirectConfig?: {
    Protocol?: string;
    Port?: string;
    Host?: string;
    Path?: string;
    Query?: string;
    StatusCode: string;
  };
}

export interface RuleCondition {
  Field?: string;
  Values?: string[];
  PathPatternConfig?: { Values: string[] };
  HostHeaderConfig?: { Values: string[] };
  HttpHeaderConfig?: { HttpHeaderName: string; Values: string[] };
  HttpRequestMethodConfig?: { Values: string[] };
  QueryStringConfig?: { Values: { Key?: string; Value: string }[] };
}

export interface LoadBalancer {
  LoadBalancerArn: string;
  DNSName: string;
  CanonicalHostedZoneId: string;
  CreatedTime: Date;
  LoadBalancerName: string;
  Scheme: string;
  VpcId: string;
  State: { Code: string };
  Type: string;
  AvailabilityZones: { ZoneName: string; SubnetId: string }[];
  SecurityGroups: string[];
  IpAddressType: string;
}

export interface TargetGroup {
  TargetGroupArn: string;
  TargetGroupName: string;
  Protocol: string;
  Port: number;
  VpcId?: string;
  HealthCheckProtocol: string;
  HealthCheckPort: string;
  HealthCheckEnabled: boolean;
  HealthCheckIntervalSeconds: number;
  HealthCheckTimeoutSeconds: number;
  HealthyThresholdCount: number;
  UnhealthyThresholdCount: number;
  HealthCheckPath: string;
  Matcher: { HttpCode: string };
  LoadBalancerArns: string[];
  TargetType: string;
  ProtocolVersion: string;
  IpAddressType: string;
}

export interface Listener {
  ListenerArn: string;
  LoadBalancerArn: string;
  Port: number;
  Protocol: string;
  DefaultActions: ElbAction[];
  /** ARN of the listener's default rule (DescribeRules shows it with Priority `default`). */
  defaultRuleArn: string;
}

export interface Rule {
  RuleArn: string;
  listenerArn: string;
  Priority: string;
  Conditions: RuleCondition[];
  Actions: ElbAction[];
}

export interface TargetState {
  tgArn: string;
  Id: string;
  Port: number;
  state: 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining' | 'unavailable';
  reason?: string;
  description?: string;
  ok: number;
  fail: number;
}
