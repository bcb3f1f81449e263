/** RegisterTargets, DeregisterTargets, DescribeTargetHealth. */
import { AwsError } from '../../contracts';
import { qList, qNumber, qObject } from '../../protocol/query';
import type { ElbContext, ElbOperation } from '../context';
import { targetKey } from '../state';
import { need } from '../validate';
import { targetHealthView, unregisteredTargetView } from '../views';

/** The target registration and health operations. */
export function targetOperations(ctx: ElbContext): Record<string, ElbOperation> {
  const { state, health } = ctx;
  return {
    RegisterTargets: (p) => {
      const tg = state.tg(need(p, 'TargetGroupArn'));
      const targets = qList(p.Targets).map((t) => qObject(t));
      if (!targets.length) throw new AwsError('ValidationError', 'Targets must not be empty.');
      for (const t of targets) {
        const port = qNumber(t.Port) ?? tg.Port;
        if (!(port >= 1 && port <= 65535))
          throw new AwsError('InvalidTarget', `The port ${port} is not valid.`);
        health.register(tg.TargetGroupArn, need(t, 'Id'), port);
      }
      return {};
    },
    DeregisterTargets: (p) => {
      const tg = state.tg(need(p, 'TargetGroupArn'));
      for (const raw of qList(p.Targets)) {
        const t = qObject(raw);
        const id = need(t, 'Id');
        const port = qNumber(t.Port) ?? tg.Port;
        if (!state.targets.has(targetKey(tg.TargetGroupArn, id, port))) {
          throw new AwsError(
            'InvalidTarget',
            `The following targets are not registered in target group '${tg.TargetGroupArn}': '${id}:${port}'`,
          );
        }
        void health.deregister(tg.TargetGroupArn, id, port);
      }
      return {};
    },
    DescribeTargetHealth: (p) => {
      const tg = state.tg(need(p, 'TargetGroupArn'));
      const asked = qList(p.Targets).map((t) => qObject(t));
      if (asked.length) {
        return {
          TargetHealthDescriptions: asked.map((a) => {
            const id = need(a, 'Id');
            const port = qNumber(a.Port) ?? tg.Port;
            const t = state.targets.get(targetKey(tg.TargetGroupArn, id, port));
            return t ? targetHealthView(tg, t) : unregisteredTargetView(id, port);
          }),
        };
      }
      return {
        TargetHealthDescriptions: [...state.targets.values()]
          .filter((t) => t.tgArn === tg.TargetGroupArn)
          .map((t) => targetHealthView(tg, t)),
      };
    },
  };
}
