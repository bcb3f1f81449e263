/** ECS resources as the API returns them (camelCase members), plus internal bookkeeping. */

export interface Tag {
  key: string;
  value?: string;
}

export interface Cluster {
  clusterArn: string;
  clusterName: string;
  status: 'ACTIVE' | 'INACTIVE';
  registeredContainerInstancesCount: number;
  runningTasksCount: number;
  pendingTasksCount: number;
  activeServicesCount: number;
  statistics: unknown[];
  tags: Tag[];
  settings: { name: string; value: string }[];
  capacityProviders: string[];
  defaultCapacityProviderStrategy: unknown[];
}

export interface ContainerDefinition {
  name: string;
  image: string;
  essential?: boolean;
  entryPoint?: string[];
  command?: string[];
  workingDirectory?: string;
  environment?: { name: string; value: string }[];
  portMappings?: { containerPort?: number; hostPort?: number; protocol?: string; name?: string }[];
  healthCheck?: {
    command: string[];
    interval?: number;
    timeout?: number;
    retries?: number;
    startPeriod?: number;
  };
  stopTimeout?: number;
  [key: string]: unknown;
}

export interface TaskDefinition {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE' | 'DELETE_IN_PROGRESS';
  containerDefinitions: ContainerDefinition[];
  registeredAt: Date;
  deregisteredAt?: Date;
  registeredBy?: string;
  networkMode?: string;
  requiresCompatibilities?: string[];
  compatibilities: string[];
  cpu?: string;
  memory?: string;
  tags: Tag[];
  [key: string]: unknown;
}

export interface LoadBalancerRef {
  targetGroupArn?: string;
  loadBalancerName?: string;
  containerName?: string;
  containerPort?: number;
  advancedConfiguration?: {
    alternateTargetGroupArn?: string;
    productionListenerRule?: string;
    testListenerRule?: string;
    roleArn?: string;
  };
}

export interface DeploymentConfiguration {
  deploymentCircuitBreaker?: {
    enable: boolean;
    rollback: boolean;
    resetOnHealthyTask?: boolean;
    thresholdConfiguration?: { type: string; value: number };
  };
  maximumPercent?: number;
  minimumHealthyPercent?: number;
  alarms?: { alarmNames: string[]; enable: boolean; rollback: boolean };
  strategy?: 'ROLLING' | 'BLUE_GREEN' | 'LINEAR' | 'CANARY';
  bakeTimeInMinutes?: number;
  lifecycleHooks?: unknown[];
  linearConfiguration?: { stepPercent?: number; stepBakeTimeInMinutes?: number };
  canaryConfiguration?: { canaryPercent?: number; canaryBakeTimeInMinutes?: number };
  [key: string]: unknown;
}

/** A `deployments[]` entry of a service. */
export interface Deployment {
  id: string;
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
  taskDefinition: string;
  desiredCount: number;
  pendingCount: number;
  runningCount: number;
  failedTasks: number;
  createdAt: Date;
  updatedAt: Date;
  launchType?: string;
  platformVersion?: string;
  networkConfiguration?: unknown;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  /** Internal: the service deployment and revision this deployment belongs to. */
  serviceDeploymentArn: string;
  serviceRevisionArn: string;
}

export interface ServiceEvent {
  id: string;
  createdAt: Date;
  message: string;
}

export interface Service {
  serviceArn: string;
  serviceName: string;
  clusterArn: string;
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  launchType?: string;
  platformVersion?: string;
  taskDefinition: string;
  loadBalancers: LoadBalancerRef[];
  serviceRegistries: unknown[];
  deploymentConfiguration: DeploymentConfiguration;
  deploymentController: { type: string };
  deployments: Deployment[];
  events: ServiceEvent[];
  networkConfiguration?: unknown;
  healthCheckGracePeriodSeconds?: number;
  schedulingStrategy: string;
  createdAt: Date;
  createdBy: string;
  enableECSManagedTags: boolean;
  propagateTags: string;
  enableExecuteCommand: boolean;
  availabilityZoneRebalancing?: string;
  tags: Tag[];
  currentServiceDeployment?: string;
  /** Internal: the target group that serves production traffic (blue/green alternates). */
  productionTargetGroupArn?: string;
  /** Internal: the service went unstable and has not yet reported a steady state. */
  unsteady?: boolean;
}

export interface NetworkBinding {
  bindIP: string;
  containerPort: number;
  hostPort: number;
  protocol: string;
}

export interface Container {
  containerArn: string;
  taskArn: string;
  name: string;
  image: string;
  imageDigest?: string;
  runtimeId?: string;
  lastStatus: string;
  exitCode?: number;
  reason?: string;
  networkBindings: NetworkBinding[];
  networkInterfaces: unknown[];
  healthStatus: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
  cpu?: string;
  memory?: string;
}

export interface Task {
  taskArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  group?: string;
  startedBy?: string;
  lastStatus: string;
  desiredStatus: string;
  containers: Container[];
  createdAt: Date;
  pullStartedAt?: Date;
  pullStoppedAt?: Date;
  startedAt?: Date;
  connectivity?: string;
  connectivityAt?: Date;
  stoppingAt?: Date;
  executionStoppedAt?: Date;
  stoppedAt?: Date;
  stoppedReason?: string;
  stopCode?: string;
  launchType?: string;
  platformVersion?: string;
  cpu?: string;
  memory?: string;
  healthStatus: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
  availabilityZone: string;
  version: number;
  tags: Tag[];
  attachments: unknown[];
  overrides: { containerOverrides: unknown[] };
  /** Internal: the deployment (ecs-svc/…) that owns the task, and its service. */
  deploymentId?: string;
  serviceName?: string;
  /** Internal: target groups the task is registered in (by ARN) with its host port. */
  targets?: { targetGroupArn: string; port: number }[];
  /** Internal: the task reached a healthy running state at least once. */
  wasHealthy?: boolean;
}

export interface ServiceRevision {
  serviceRevisionArn: string;
  serviceArn: string;
  clusterArn: string;
  taskDefinition: string;
  launchType?: string;
  platformVersion?: string;
  loadBalancers: LoadBalancerRef[];
  networkConfiguration?: unknown;
  containerImages: { containerName: string; imageDigest?: string; image: string }[];
  guardDutyEnabled: boolean;
  createdAt: Date;
}

export interface ServiceDeployment {
  serviceDeploymentArn: string;
  serviceArn: string;
  clusterArn: string;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  stoppedAt?: Date;
  updatedAt: Date;
  sourceServiceRevisions: {
    arn: string;
    requestedTaskCount: number;
    runningTaskCount: number;
    pendingTaskCount: number;
  }[];
  targetServiceRevision: {
    arn: string;
    requestedTaskCount: number;
    runningTaskCount: number;
    pendingTaskCount: number;
    requestedTestTrafficWeight?: number;
    requestedProductionTrafficWeight?: number;
  };
  status: string;
  statusReason?: string;
  lifecycleStage?: string;
  deploymentConfiguration: DeploymentConfiguration;
  rollback?: { reason: string; startedAt: Date; serviceRevisionArn: string };
  deploymentCircuitBreaker: { status: string; failureCount: number; threshold: number };
  alarms: { status: string; alarmNames?: string[]; triggeredAlarmNames?: string[] };
  /** Internal: the ECS deployment id (ecs-svc/…) carrying the target revision. */
  deploymentId: string;
  /** Internal: a StopServiceDeployment request waiting to be acted on. */
  stopRequest?: 'ROLLBACK' | 'ABORT';
}
