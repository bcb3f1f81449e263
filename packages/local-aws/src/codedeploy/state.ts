/** The CodeDeploy maps (applications, deployment groups, configurations, deployments) and lookups. */
import { AwsError } from '../contracts';
import type { Application, Deployment, DeploymentConfig, DeploymentGroup } from './model';
import { PREDEFINED_CONFIGS } from './configs';

/** Every CodeDeploy resource local-aws holds. */
export class CodeDeployState {
  readonly applications = new Map<string, Application>();
  /** By `application/group`. */
  readonly groups = new Map<string, DeploymentGroup>();
  /** Custom deployment configurations (the predefined ones are in {@link PREDEFINED_CONFIGS}). */
  readonly configs = new Map<string, DeploymentConfig>();
  readonly deployments = new Map<string, Deployment>();

  /** The application, or `ApplicationDoesNotExistException`. */
  application(name: unknown): Application {
    if (typeof name !== 'string' || !name)
      throw new AwsError(
        'ApplicationNameRequiredException',
        'The application name must be specified.',
      );
    const app = this.applications.get(name);
    if (!app)
      throw new AwsError(
        'ApplicationDoesNotExistException',
        `No application found for name: ${name}`,
      );
    return app;
  }

  /** The deployment group, or `DeploymentGroupDoesNotExistException`. */
  group(applicationName: unknown, name: unknown): DeploymentGroup {
    const app = this.application(applicationName);
    if (typeof name !== 'string' || !name)
      throw new AwsError(
        'DeploymentGroupNameRequiredException',
        'The deployment group name must be specified.',
      );
    const g = this.groups.get(`${app.applicationName}/${name}`);
    if (!g)
      throw new AwsError(
        'DeploymentGroupDoesNotExistException',
        `No Deployment Group found for name: ${name}`,
      );
    return g;
  }

  /** A predefined or custom configuration, or `DeploymentConfigDoesNotExistException`. */
  config(name: unknown): DeploymentConfig {
    if (typeof name !== 'string' || !name)
      throw new AwsError(
        'DeploymentConfigNameRequiredException',
        'The deployment configuration name must be specified.',
      );
    const c = PREDEFINED_CONFIGS.get(name) ?? this.configs.get(name);
    if (!c)
      throw new AwsError(
        'DeploymentConfigDoesNotExistException',
        `No deployment configuration found for name: ${name}`,
      );
    return c;
  }

  /** The deployment, or `DeploymentDoesNotExistException` / `InvalidDeploymentIdException`. */
  deployment(id: unknown): Deployment {
    if (typeof id !== 'string' || !id)
      throw new AwsError('DeploymentIdRequiredException', 'The deployment ID must be specified.');
    if (!/^d-[A-Z0-9]{9}$/.test(id))
      throw new AwsError(
        'InvalidDeploymentIdException',
        `Specified DeploymentId is not in the valid format: ${id}`,
      );
    const d = this.deployments.get(id);
    if (!d)
      throw new AwsError(
        'DeploymentDoesNotExistException',
        `The deployment ${id} could not be found.`,
      );
    return d;
  }

  /** JSON-serialisable state (deployments in flight are not resumed after a restart). */
  snapshot(): unknown {
    return {
      applications: [...this.applications.values()],
      groups: [...this.groups.values()],
      configs: [...this.configs.values()],
      deployments: [...this.deployments.values()],
    };
  }

  /** Loads saved state; deployments that were in flight end as Stopped. */
  restore(saved: unknown): void {
    const s = (saved ?? {}) as {
      applications?: Application[];
      groups?: DeploymentGroup[];
      configs?: DeploymentConfig[];
      deployments?: Deployment[];
    };
    for (const a of s.applications ?? []) this.applications.set(a.applicationName, a);
    for (const g of s.groups ?? [])
      this.groups.set(`${g.applicationName}/${g.deploymentGroupName}`, g);
    for (const c of s.configs ?? []) this.configs.set(c.deploymentConfigName, c);
    for (const d of s.deployments ?? []) {
      if (!['Succeeded', 'Failed', 'Stopped'].includes(d.status)) {
        d.status = 'Stopped';
        d.errorInformation = {
          code: 'INTERNAL_ERROR',
          message: 'The deployment was interrupted: local-aws restarted while it was in flight.',
        };
      }
      this.deployments.set(d.deploymentId, d);
    }
  }
}
