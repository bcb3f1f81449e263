import { getInputs } from '../../../actions/ecs-deploy/src/inputs';
import { InputParser } from '../../../packages/kit/src/inputs';

const savedRegion = process.env.AWS_REGION;
beforeAll(() => {
  process.env.AWS_REGION = 'us-east-1';
});
afterAll(() => {
  if (savedRegion === undefined) delete process.env.AWS_REGION;
  else process.env.AWS_REGION = savedRegion;
});

function inputs(values: Record<string, string>): ReturnType<typeof getInputs> {
  return getInputs(new InputParser((name) => values[name] ?? ''));
}

test.each(['Stable', 'test_traffic', 'shifted'])(
  'a wrong wait-until %s is refused listing every value ecs-deploy takes, test-traffic included',
  (value) => {
    expect(() =>
      inputs({
        service: 'web',
        'container-images': 'web=registry.example/web:v2',
        'wait-until': value,
      }),
    ).toThrow(
      `Input \`wait-until\` must be one of \`stable\`, \`traffic-shifted\`, \`none\`, \`test-traffic\`; got \`${value}\`.`,
    );
  },
);

test.each(['stable', 'traffic-shifted', 'none', 'test-traffic'])(
  'wait-until %s is read',
  (value) => {
    expect(
      inputs({
        service: 'web',
        'container-images': 'web=registry.example/web:v2',
        'wait-until': value,
      }).waitUntil,
    ).toBe(value);
  },
);
