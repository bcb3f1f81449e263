// Benchmarks ecs-deploy and rollback against local-aws at its real-time scale (timeScale 1):
// how soon ecs-deploy notices a completed rolling deployment and how many ECS calls a minute it
// makes while it waits (baseline: polling the same deployment every 15 s, as aws-actions' deploy
// action does), for a rollout with a 5 s drain and one with a 60 s drain (calls per minute
// during the drain, too), and how long it takes from a
// failed health gate to production traffic back on blue with rollback (baseline: a rolling
// rollback through UpdateService, traffic back once the old revision's tasks are healthy); and
// the ECS calls a minute while following a 10-service release, against one service (same run).
// Run: npx tsx scripts/bench-ecs.ts   (build first: npm run build)
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateLoadBalancerCommand,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runAction } from '../test/support/run-action';
import {
  createBlueGreenListener,
  createForwardListener,
  createTargetGroup,
  httpGet,
  startHarness,
  type Harness,
} from '../test/e2e/local-aws/support';
import type { BenchRow } from './lib/bench-row';

interface CountingProxy {
  url: string;
  ecsCalls: () => number;
  close: () => Promise<void>;
}

/** Forwards everything to `target`, counting ECS API calls (by their X-Amz-Target). */
async function countingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  let ecs = 0;
  const server: Server = createServer((req, res) => {
    if (String(req.headers['x-amz-target'] ?? '').startsWith('AmazonEC2ContainerServiceV20141113.'))
      ecs++;
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ecsCalls: () => ecs,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

function awsEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
  };
}

/** Waits until the service's deployment has completed (the SDK waiter can return before). */
async function completed(h: Harness, service: string): Promise<void> {
  const end = Date.now() + 300_000;
  while (Date.now() < end) {
    const svc = (
      await h.ecs.send(new DescribeServicesCommand({ cluster: 'bench', services: [service] }))
    ).services![0];
    if (svc.deployments?.length === 1 && svc.deployments[0].rolloutState === 'COMPLETED') return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`service ${service} never completed its first deployment`);
}

/** What one rolling rollout measured. */
interface RolloutFigures {
  /** From local-aws reporting the deployment SUCCESSFUL to ecs-deploy saying so (ms). */
  lagMs: number;
  /** The 15 s waiter's lag on the same rollout (ms). */
  waiterLagMs: number;
  /** ECS calls and minutes from the deployment's start to ecs-deploy's verdict. */
  calls: number;
  minutes: number;
  /** ECS calls and minutes from ecs-deploy saying the old tasks drain to its verdict. */
  drainCalls?: number;
  drainMinutes?: number;
  port: number;
}

/**
 * One rolling deploy at real time behind a target group whose deregistration delay is
 * `drainSeconds`: how soon ecs-deploy notices completion (against the 15 s waiter) and how many
 * ECS calls a minute it makes while it waits, overall and during the drain.
 */
async function rollout(h: Harness, name: string, drainSeconds: number): Promise<RolloutFigures> {
  const tg = await createTargetGroup(h, `${name}-tg`);
  await h.elb.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: tg,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(drainSeconds) }],
    }),
  );
  const lb = await h.elb.send(new CreateLoadBalancerCommand({ Name: name, Subnets: ['subnet-1'] }));
  const port = await createForwardListener(h, lb.LoadBalancers![0].LoadBalancerArn, tg);
  const v1 = await h.pushApp(name, 'v1');
  const v2 = await h.pushApp(name, 'v2');
  const td = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: name,
      containerDefinitions: [{ name: 'web', image: v1, portMappings: [{ containerPort: 8080 }] }],
    }),
  );
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'bench',
      serviceName: name,
      taskDefinition: td.taskDefinition!.taskDefinitionArn,
      desiredCount: 1,
      loadBalancers: [{ targetGroupArn: tg, containerName: 'web', containerPort: 8080 }],
    }),
  );
  await completed(h, name);

  const proxy = await countingProxy(h.aws.endpoint);
  let completedAt: number | undefined;
  let waiterAt: number | undefined;
  let actionAt: number | undefined;
  let done = false;
  const watch = (async (): Promise<void> => {
    // Observe local-aws directly (not through the proxy) to learn when it reports completion.
    while (!done) {
      const svc = (
        await h.ecs.send(new DescribeServicesCommand({ cluster: 'bench', services: [name] }))
      ).services![0];
      if (svc.currentServiceDeployment && svc.taskDefinition?.endsWith(':2')) {
        const sd = (
          await h.ecs.send(
            new DescribeServiceDeploymentsCommand({
              serviceDeploymentArns: [svc.currentServiceDeployment],
            }),
          )
        ).serviceDeployments![0];
        if (sd.status === 'SUCCESSFUL' && completedAt === undefined) completedAt = Date.now();
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  // The baseline waiter starts with the deployment, as a workflow step would.
  const started = Date.now();
  let waitStart: number | undefined;
  let callsAtStart = 0;
  let drainStart: number | undefined;
  let callsAtDrain = 0;
  let callsAtEnd = 0;
  const baseline = (async (): Promise<void> => {
    // aws-actions' deploy action checks every 15 s; here on the completion signal itself.
    for (;;) {
      await new Promise((r) => setTimeout(r, 15_000));
      const svc = (
        await h.ecs.send(new DescribeServicesCommand({ cluster: 'bench', services: [name] }))
      ).services![0];
      if (
        svc.taskDefinition?.endsWith(':2') &&
        svc.deployments?.length === 1 &&
        svc.deployments[0].rolloutState === 'COMPLETED'
      )
        break;
    }
    waiterAt = Date.now();
  })();
  const run = await runAction('ecs-deploy', {
    env: awsEnv(proxy.url),
    inputs: { cluster: 'bench', service: name, 'container-images': `web=${v2}` },
    onStart: (child) =>
      child.stdout?.on('data', (d: Buffer) => {
        const text = d.toString();
        if (text.includes('Started the deployment') && waitStart === undefined) {
          waitStart = Date.now();
          callsAtStart = proxy.ecsCalls();
        }
        if (text.includes("Draining the old tasks' connections") && drainStart === undefined) {
          drainStart = Date.now();
          callsAtDrain = proxy.ecsCalls();
        }
        if (text.includes('is deployed and stable') && actionAt === undefined) {
          actionAt = Date.now();
          callsAtEnd = proxy.ecsCalls();
        }
      }),
  });
  await baseline;
  done = true;
  await watch;
  await proxy.close();
  if (
    run.outputs.status !== 'succeeded' ||
    completedAt === undefined ||
    actionAt === undefined ||
    waiterAt === undefined
  ) {
    throw new Error(
      `the rolling deployment of ${name} did not complete as expected: ${run.error ?? run.outputs.status}`,
    );
  }
  return {
    lagMs: Math.max(0, actionAt - completedAt),
    waiterLagMs: Math.max(1, waiterAt - completedAt),
    calls: callsAtEnd - callsAtStart,
    minutes: (actionAt - (waitStart ?? started)) / 60_000,
    drainCalls: drainStart === undefined ? undefined : callsAtEnd - callsAtDrain,
    drainMinutes: drainStart === undefined ? undefined : (actionAt - drainStart) / 60_000,
    port,
  };
}

/** Rolling deploys at real time (5 s and 60 s drains), and the rolling rollback baseline. */
async function rolloutNotice(h: Harness): Promise<{ rows: BenchRow[]; rollingRollbackMs: number }> {
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'bench' }));
  const normal = await rollout(h, 'roll', 5);
  // Baseline for the blue/green figure: a rolling rollback, traffic back once old tasks are healthy.
  const t0 = Date.now();
  const back = await runAction('rollback', {
    env: awsEnv(h.aws.endpoint),
    inputs: { cluster: 'bench', service: 'roll', 'wait-until': 'none' },
  });
  if (back.code !== 0) throw new Error(`the rolling rollback failed: ${back.error}`);
  let rollingRollbackMs = 300_000;
  while (Date.now() - t0 < 300_000) {
    const body = await httpGet(`http://127.0.0.1:${normal.port}/`).then(
      (r) => r.body,
      () => '',
    );
    if (body.startsWith('v1 ')) {
      rollingRollbackMs = Date.now() - t0;
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const slow = await rollout(h, 'drain', 60);
  const rows: BenchRow[] = [];
  for (const [label, f] of [
    ['', normal],
    [' (60 s drain)', slow],
  ] as const) {
    const perMinute = f.calls / f.minutes;
    rows.push(
      {
        name: `ecs-deploy${label}: completed rollout noticed after (polling every 15 s: ${f.waiterLagMs} ms, ratio ${(f.lagMs / f.waiterLagMs).toFixed(2)})`,
        value: f.lagMs,
        unit: 'ms',
        target: '≤ 2500',
        ok: f.lagMs <= 2500,
      },
      {
        name: `ecs-deploy${label}: ECS calls per minute while waiting (${f.calls} calls in ${(f.minutes * 60).toFixed(1)} s)`,
        value: Number(perMinute.toFixed(1)),
        unit: 'calls/min',
        target: '≤ 30',
        ok: perMinute <= 30,
      },
    );
  }
  if (slow.drainCalls === undefined || slow.drainMinutes === undefined) {
    rows.push({
      name: 'ecs-deploy (60 s drain): ECS calls per minute during the drain (the drain was never announced)',
      value: NaN,
      unit: 'calls/min',
      target: '≤ 12',
      ok: false,
    });
  } else {
    const perMinute = slow.drainCalls / slow.drainMinutes;
    rows.push({
      name: `ecs-deploy (60 s drain): ECS calls per minute during the drain (${slow.drainCalls} calls in ${(slow.drainMinutes * 60).toFixed(1)} s; aws-actions' deploy action: 8–12)`,
      value: Number(perMinute.toFixed(1)),
      unit: 'calls/min',
      target: '≤ 12',
      ok: perMinute <= 12,
    });
  }
  return { rows, rollingRollbackMs };
}

/** Blue/green at real time: failed gate → production traffic back on blue, against a rolling UpdateService rollback. */
async function trafficBack(h: Harness, baseline: number): Promise<BenchRow[]> {
  const blueTg = await createTargetGroup(h, 'bg-blue');
  const greenTg = await createTargetGroup(h, 'bg-green');
  const lb = (
    await h.elb.send(new CreateLoadBalancerCommand({ Name: 'bg', Subnets: ['subnet-1'] }))
  ).LoadBalancers![0];
  const { port, ruleArn: rule } = await createBlueGreenListener(
    h,
    lb.LoadBalancerArn,
    blueTg,
    greenTg,
  );
  const blue = await h.pushApp('bg', 'blue');
  const td = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'bg',
      containerDefinitions: [
        {
          name: 'web',
          image: blue,
          portMappings: [{ containerPort: 8080 }],
          environment: [{ name: 'GREETING', value: 'ok' }],
        },
      ],
    }),
  );
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'bench',
      serviceName: 'bg',
      taskDefinition: td.taskDefinition!.taskDefinitionArn,
      desiredCount: 1,
      loadBalancers: [
        {
          targetGroupArn: blueTg,
          containerName: 'web',
          containerPort: 8080,
          advancedConfiguration: {
            alternateTargetGroupArn: greenTg,
            productionListenerRule: rule,
            roleArn: 'arn:aws:iam::000000000000:role/bg',
          },
        },
      ],
      deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 10 },
    }),
  );
  await completed(h, 'bg');
  const env = awsEnv(h.aws.endpoint);
  const url = `http://127.0.0.1:${port}/`;
  const untilBlue = async (from: number): Promise<number> => {
    for (;;) {
      const body = await httpGet(url).then(
        (r) => r.body,
        () => '',
      );
      if (body === 'blue ok') return Date.now() - from;
      if (Date.now() - from > 300_000) throw new Error('traffic never came back to blue');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const deployBad = async (): Promise<void> => {
    const d = await runAction('ecs-deploy', {
      env,
      inputs: {
        cluster: 'bench',
        service: 'bg',
        'container-images': `web=${blue}`,
        'environment-variables': 'web.GREETING=oops',
        'wait-until': 'traffic-shifted',
      },
      killAfterMs: 300_000,
    });
    if (d.outputs.status !== 'succeeded')
      throw new Error(
        `the blue/green deploy did not shift traffic: ${d.error ?? d.outputs.status}`,
      );
  };
  const gate = async (): Promise<void> => {
    const g = await runAction('health-gate', {
      env,
      inputs: {
        url,
        'expect-body': ' ok',
        interval: '250ms',
        'unhealthy-threshold': '2',
        timeout: '30s',
      },
    });
    if (g.code === 0) throw new Error('the gate passed a bad release');
  };

  await deployBad();
  await gate();
  const t0 = Date.now();
  const rolled = await runAction('rollback', {
    env,
    inputs: { cluster: 'bench', service: 'bg', 'wait-until': 'traffic-shifted' },
  });
  if (rolled.outputs.method !== 'stop-deployment')
    throw new Error(
      `rollback did not stop the deployment: ${rolled.error ?? rolled.outputs.method}`,
    );
  const native = await untilBlue(t0);

  return [
    {
      name: `rollback: failed gate → production traffic on blue (rolling UpdateService rollback: ${baseline} ms, ratio ${(native / baseline).toFixed(2)})`,
      value: native,
      unit: 'ms',
      target: '< 10000',
      ok: native < 10_000,
    },
  ];
}

/** What following one deploy (one service or a release) cost. */
interface FollowCost {
  calls: number;
  seconds: number;
  perMinute: number;
  /** All ECS calls of the step, start to end. */
  total: number;
  /** The step's duration (s). */
  stepSeconds: number;
}

/**
 * Runs ecs-deploy on `services` (one line each, all in cluster `bench`, container `web`) to
 * image `image`, counting ECS calls from the moment every service's deployment has started to
 * the verdict.
 */
async function followCost(h: Harness, services: string[], image: string): Promise<FollowCost> {
  const proxy = await countingProxy(h.aws.endpoint);
  const started = new Set<string>();
  let followFrom: { at: number; calls: number } | undefined;
  let end: { at: number; calls: number } | undefined;
  const one = services.length === 1;
  const t0 = Date.now();
  const run = await runAction('ecs-deploy', {
    env: awsEnv(proxy.url),
    inputs: {
      cluster: 'bench',
      service: services.join('\n'),
      'container-images': services.map((s) => `${one ? '' : `${s}/`}web=${image}`).join('\n'),
    },
    killAfterMs: 600_000,
    onStart: (child) =>
      child.stdout?.on('data', (d: Buffer) => {
        for (const line of d.toString().split('\n')) {
          const m = /^(?:\[([^\]]+)\] )?Started the deployment of /.exec(line);
          if (m) {
            started.add(m[1] ?? services[0]);
            if (started.size === services.length && !followFrom)
              followFrom = { at: Date.now(), calls: proxy.ecsCalls() };
          }
          if (/deployed and stable/.test(line) && followFrom && !end) {
            if (one || /^Released /.test(line)) end = { at: Date.now(), calls: proxy.ecsCalls() };
          }
        }
      }),
  });
  const total = proxy.ecsCalls();
  const stepSeconds = (Date.now() - t0) / 1000;
  await proxy.close();
  if (run.outputs.status !== 'succeeded' || !followFrom || !end)
    throw new Error(
      `the deploy of ${services.join(', ')} did not succeed: ${run.error ?? run.outputs.status}`,
    );
  const seconds = (end.at - followFrom.at) / 1000;
  const calls = end.calls - followFrom.calls;
  return { calls, seconds, perMinute: (calls / seconds) * 60, total, stepSeconds };
}

/** ECS calls per minute while following a 10-service release, against one service, same run. */
async function releaseCalls(h: Harness): Promise<BenchRow[]> {
  const v1 = await h.pushApp('rel', 'v1');
  const v2 = await h.pushApp('rel', 'v2');
  const names = ['solo', ...Array.from({ length: 10 }, (_, i) => `rel${i}`)];
  for (const name of names) {
    const td = await h.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: name,
        containerDefinitions: [{ name: 'web', image: v1, portMappings: [{ containerPort: 8080 }] }],
      }),
    );
    await h.ecs.send(
      new CreateServiceCommand({
        cluster: 'bench',
        serviceName: name,
        taskDefinition: td.taskDefinition!.taskDefinitionArn,
        desiredCount: 1,
      }),
    );
  }
  for (const name of names) await completed(h, name);
  const single = await followCost(h, ['solo'], v2);
  const release = await followCost(h, names.slice(1), v2);
  const ratio = release.perMinute / single.perMinute;
  return [
    {
      name: `ecs-deploy: ECS calls per minute following one service (${single.calls} calls in ${single.seconds.toFixed(1)} s; ${single.total} calls in the ${single.stepSeconds.toFixed(1)} s step)`,
      value: Number(single.perMinute.toFixed(1)),
      unit: 'calls/min',
      target: '≤ 30',
      ok: single.perMinute <= 30,
    },
    {
      name: `ecs-deploy: ECS calls per minute following a 10-service release (${release.calls} calls in ${release.seconds.toFixed(1)} s; ${release.total} calls in the ${release.stepSeconds.toFixed(1)} s step; ratio to one service ${ratio.toFixed(2)})`,
      value: Number(release.perMinute.toFixed(1)),
      unit: 'calls/min',
      target: '≤ 1.5 × one service',
      ok: ratio <= 1.5,
    },
  ];
}

/** Runs the ecs-deploy and rollback benchmarks at local-aws's real-time scale. */
export async function bench(): Promise<BenchRow[]> {
  const h = await startHarness({ timeScale: 1 });
  try {
    const rolling = await rolloutNotice(h);
    return [
      ...rolling.rows,
      ...(await trafficBack(h, rolling.rollingRollbackMs)),
      ...(await releaseCalls(h)),
    ];
  } finally {
    await h.close();
  }
}

if (require.main === module) {
  bench()
    .then((rows) => {
      for (const r of rows)
        console.log(`${r.ok ? ' ' : '!'} ${r.name}: ${r.value} ${r.unit} (target ${r.target})`);
    })
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
