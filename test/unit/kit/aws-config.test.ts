import { awsClientConfig } from '../../../packages/kit/src/aws';

type WarnIfUnsupported = (nodeVersion: string) => void;

/** The SDK's own check, the one every client runs when it is created, from a fresh module. */
function freshSdkVersionCheck(): WarnIfUnsupported {
  let check!: WarnIfUnsupported;
  jest.isolateModules(() => {
    check = jest.requireActual<{ emitWarningIfUnsupportedVersion: WarnIfUnsupported }>(
      '@aws-sdk/core/client',
    ).emitWarningIfUnsupportedVersion;
  });
  return check;
}

describe('awsClientConfig', () => {
  const saved = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  let emitted: string[];
  beforeEach(() => {
    delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    emitted = [];
    jest
      .spyOn(process, 'emitWarning')
      .mockImplementation((warning: string | Error) => void emitted.push(String(warning)));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    if (saved === undefined) delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    else process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = saved;
  });

  test('without the kit, the SDK warns on Node 20 that its later releases need Node 22', () => {
    freshSdkVersionCheck()('v20.20.2');
    expect(emitted.join('\n')).toMatch(/NodeVersionSupportWarning/);
  });

  test('a kit client keeps the Node-version warning out of the log and lets other warnings through', () => {
    awsClientConfig('eu-west-1');
    freshSdkVersionCheck()('v20.20.2');
    process.emitWarning('something else');
    expect(emitted).toEqual(['something else']);
  });
});
