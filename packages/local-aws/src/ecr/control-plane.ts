/**
 * ECR API operations (awsJson1_1, `AmazonEC2ContainerRegistry_V20150921.<Op>`) over the
 * registry state: GetAuthorizationToken here, the repository and image operations from
 * `operations/`. Outputs use ECR's member names; timestamps are epoch seconds; errors are
 * `AwsError`s named as the SDK's exception classes (input checks in `api-input.ts`).
 */
import type { JsonOperation } from '../contracts';
import { seconds } from './api-views';
import type { TokenIssuer } from './auth';
import { imageOperations } from './operations/images';
import { repositoryOperations } from './operations/repositories';
import type { RegistryState } from './registry-state';

/** Builds the ECR operation table over a registry state. */
export function createControlPlane(
  state: RegistryState,
  tokens: TokenIssuer,
): Record<string, JsonOperation> {
  return {
    GetAuthorizationToken(_input, rc) {
      const { password, expiresAt } = tokens.issue();
      return {
        authorizationData: [
          {
            authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
            expiresAt: seconds(expiresAt),
            proxyEndpoint: `http://${rc.endpointHost}`,
          },
        ],
      };
    },
    ...repositoryOperations(state),
    ...imageOperations(state),
  };
}
