/** CodeDeploy resources as the API returns them (camelCase members), plus local bookkeeping. */

export interface Application {
  applicationId: string;
  applicationName: string;
  createTime: Date;
  linkedToGitHub: boolean;
  computePlatform: 'ECS' | 'Server' | 'Lambda';
}

export interface TrafficRoutingConfig {
  type: 'AllAtOnce' | 'TimeBasedCanary' | 'TimeBasedLinear';
  timeBasedCanary?: { canaryPercentage: number; canaryInterval: number };
  timeBasedLinear?: { linearPercentage: number; linearInterval: number };
}

export interface DeploymentConfig {
  deploymentConfigId: string;
  deploymentConfigName: string;
  createTime: Date;
  computePlatform: 'ECS' | 'Server' | 'Lambda';
  trafficRoutingConfig: TrafficRoutingConfig;
}

export interface TargetGroupPairInfo {
  targetGroups: { name: string }[];
  prodTrafficRoute: { listenerArns: string[] };
  testTrafficRoute?: { listenerArns: string[] };
}

export interface DeploymentGroup {
  applicationName: string;
  deploymentGroupId: string;
  deploymentGroupName: string;
  deploymentConfigName: string;
  serviceRoleArn: string;
  computePlatform: 'ECS';
  ecsServices: { serviceName: string; clusterName: string }[];
  deploymentStyle: { deploymentType: 'BLUE_GREEN'; deploymentOption: 'WITH_TRAFFIC_CONTROL' };
  blueGreenDeploymentConfiguration: {
    terminateBlueInstancesOnDeploymentSuccess: {
      action: 'TERMINATE' | 'KEEP_ALIVE';
      terminationWaitTimeInMinutes: number;
    };
    deploymentReadyOption: {
      actionOnTimeout: 'CONTINUE_DEPLOYMENT' | 'STOP_DEPLOYMENT';
      waitTimeInMinutes: number;
    };
  };
  loadBalancerInfo: { targetGroupPairInfoList: TargetGroupPairInfo[] };
  autoRollbackConfiguration: { enabled: boolean; events: string[] };
  alarmConfiguration: {
    enabled: boolean;
    ignorePollAlarmFailure: boolean;
    alarms: { name: string }[];
  };
  lastSuccessfulDeployment?: DeploymentSummary;
  lastAttemptedDeployment?: DeploymentSummary;
  tags: { Key: string; Value?: string }[];
}

/** `lastSuccessfulDeployment` / `lastAttemptedDeployment` of a deployment group. */
export interface DeploymentSummary {
  deploymentId: string;
  status: DeploymentStatus;
  endTime?: Date;
  createTime: Date;
}

export type DeploymentStatus =
  'Created' | 'Queued' | 'InProgress' | 'Baking' | 'Ready' | 'Succeeded' | 'Failed' | 'Stopped';

export type EventStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped' | 'Unknown';

export interface LifecycleEvent {
  lifecycleEventName: string;
  status: EventStatus;
  startTime?: Date;
  endTime?: Date;
  diagnostics?: { errorCode: string; scriptName: string; message: string; logTail: string };
}

/** A task set as the ECS target of a deployment reports it. */
export interface EcsTaskSetInfo {
  identifer: string;
  desiredCount: number;
  pendingCount: number;
  runningCount: number;
  status: string;
  trafficWeight: number;
  targetGroup: { name: string };
  taskSetLabel: 'Blue' | 'Green';
}

/** The one ECS target of a deployment (the service). */
export interface EcsTarget {
  deploymentId: string;
  targetId: string;
  targetArn: string;
  lastUpdatedAt: Date;
  lifecycleEvents: LifecycleEvent[];
  status: 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped' | 'Unknown' | 'Ready';
  taskSetsInfo: EcsTaskSetInfo[];
}

/** What an AppSpec for ECS says, read from its YAML or JSON content. */
export interface AppSpec {
  taskDefinition: string;
  containerName: string;
  containerPort: number;
  platformVersion?: string;
  networkConfiguration?: unknown;
  /** Lifecycle event name → Lambda function named by the hook. */
  hooks: Record<string, string>;
}

export interface Deployment {
  applicationName: string;
  deploymentGroupName: string;
  deploymentConfigName: string;
  deploymentId: string;
  revision: {
    revisionType: 'AppSpecContent';
    appSpecContent: { content: string; sha256?: string };
  };
  previousRevision?: Deployment['revision'];
  status: DeploymentStatus;
  errorInformation?: { code: string; message: string };
  createTime: Date;
  startTime?: Date;
  completeTime?: Date;
  deploymentOverview: Record<
    'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped' | 'Ready',
    number
  >;
  description?: string;
  creator: 'user' | 'codeDeployRollback';
  autoRollbackConfiguration: DeploymentGroup['autoRollbackConfiguration'];
  rollbackInfo?: {
    rollbackDeploymentId?: string;
    rollbackTriggeringDeploymentId?: string;
    rollbackMessage?: string;
  };
  deploymentStyle: DeploymentGroup['deploymentStyle'];
  blueGreenDeploymentConfiguration: DeploymentGroup['blueGreenDeploymentConfiguration'];
  loadBalancerInfo: DeploymentGroup['loadBalancerInfo'];
  computePlatform: 'ECS';
  deploymentStatusMessages: string[];
  instanceTerminationWaitTimeStarted: boolean;
  target: EcsTarget;
  /** Local: what the deployment's log says (hooks not run, traffic shifts), oldest first. */
  log: string[];
}
