import { servicesOutput } from '../../../actions/ecs-deploy/src/services-output';
import { ecsResourceName, serviceLabel } from '../../../packages/ecs/src/summary-sections';

const SERVICE_ARN = 'arn:aws:ecs:us-east-1:000000000000:service/apps/shop';
const OLD_SERVICE_ARN = 'arn:aws:ecs:us-east-1:000000000000:service/shop';
const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:000000000000:cluster/apps';

test.each([
  ['shop', 'shop'],
  [SERVICE_ARN, 'shop'],
  [OLD_SERVICE_ARN, 'shop'],
  [CLUSTER_ARN, 'apps'],
  ['apps', 'apps'],
])('the ECS name in %s is %s', (given, name) => {
  expect(ecsResourceName(given)).toBe(name);
});

test.each([
  ['apps', 'shop', 'apps/shop'],
  [CLUSTER_ARN, SERVICE_ARN, 'apps/shop'],
  [undefined, SERVICE_ARN, 'shop'],
  [undefined, 'shop', 'shop'],
])('the summary names cluster %s and service %s as %s', (cluster, service, label) => {
  expect(serviceLabel(cluster, service)).toBe(label);
});

test('a service given by ARN is keyed by its name in the `services` output, as the docs read it', () => {
  const out = JSON.parse(
    servicesOutput([{ service: SERVICE_ARN, status: 'succeeded', reason: 'deployed' }]),
  ) as Record<string, { status: string }>;
  expect(Object.keys(out)).toEqual(['shop']);
  expect(out.shop.status).toBe('succeeded');
});
