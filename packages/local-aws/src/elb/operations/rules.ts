/** CreateRule, DescribeRules, ModifyRule, SetRulePriorities, DeleteRule. */
import { AwsError } from '../../contracts';
import { arn, hexId } from '../../ids';
import { qList, qNumber, qObject, qString } from '../../protocol/query';
import type { ElbContext, ElbOperation } from '../context';
import type { Rule } from '../model';
import { pageOf } from '../paging';
import { checkActions, need, parseActions, parseConditions, parseTags, strings } from '../validate';
import { defaultRuleView, ruleView } from '../views';

/** The listener rule operations. */
export function ruleOperations(ctx: ElbContext): Record<string, ElbOperation> {
  const { state, health } = ctx;
  const notFound = (): AwsError => new AwsError('RuleNotFound', `One or more rules not found`);
  return {
    CreateRule: (p, rc) => {
      const l = state.listener(need(p, 'ListenerArn'));
      const priority = qNumber(p.Priority);
      if (priority === undefined || !(priority >= 1 && priority <= 50000))
        throw new AwsError('ValidationError', 'Priority must be between 1 and 50000.');
      if (state.listenerRules(l.ListenerArn).some((r) => Number(r.Priority) === priority)) {
        throw new AwsError('PriorityInUse', `Priority '${priority}' is currently in use`);
      }
      const conditions = parseConditions(p.Conditions);
      if (!conditions.length)
        throw new AwsError('ValidationError', 'A rule must have at least one condition.');
      const actions = parseActions(p.Actions);
      checkActions(state, actions);
      const listenerPath = l.ListenerArn.split(':listener/')[1];
      const r: Rule = {
        RuleArn: arn(
          'elasticloadbalancing',
          rc.region,
          rc.accountId,
          `listener-rule/${listenerPath}/${hexId(8)}`,
        ),
        listenerArn: l.ListenerArn,
        Priority: String(priority),
        Conditions: conditions,
        Actions: actions,
      };
      state.rules.set(r.RuleArn, r);
      state.addTags(r.RuleArn, parseTags(p.Tags));
      health.refreshUse();
      return { Rules: [ruleView(r)] };
    },
    DescribeRules: (p) => {
      const listenerArn = qString(p.ListenerArn);
      const arns = strings(p.RuleArns);
      if (arns.length) {
        const found = arns.map((a) => {
          const r = state.rules.get(a);
          if (r) return ruleView(r);
          const l = state.listenerOfDefaultRule(a);
          if (l) return defaultRuleView(l);
          throw notFound();
        });
        const page = pageOf(found, p);
        return { Rules: page.items, NextMarker: page.NextMarker };
      }
      if (!listenerArn)
        throw new AwsError(
          'ValidationError',
          'You must specify either listener rule ARNs or a listener ARN',
        );
      const l = state.listener(listenerArn);
      const page = pageOf(
        [...state.listenerRules(listenerArn).map(ruleView), defaultRuleView(l)],
        p,
      );
      return { Rules: page.items, NextMarker: page.NextMarker };
    },
    ModifyRule: (p) => {
      const ruleArn = need(p, 'RuleArn');
      const r = state.rules.get(ruleArn);
      const l = state.listenerOfDefaultRule(ruleArn);
      if (!r && !l) throw notFound();
      if (p.Actions) {
        const actions = parseActions(p.Actions);
        checkActions(state, actions);
        if (r) r.Actions = actions;
        else l!.DefaultActions = actions;
      }
      if (p.Conditions && r) r.Conditions = parseConditions(p.Conditions);
      health.refreshUse();
      return { Rules: [r ? ruleView(r) : defaultRuleView(l!)] };
    },
    SetRulePriorities: (p) => {
      const out: unknown[] = [];
      for (const raw of qList(p.RulePriorities)) {
        const o = qObject(raw);
        const r = state.rules.get(need(o, 'RuleArn'));
        if (!r) throw notFound();
        r.Priority = String(qNumber(o.Priority));
        out.push(ruleView(r));
      }
      return { Rules: out };
    },
    DeleteRule: (p) => {
      const ruleArn = need(p, 'RuleArn');
      if (!state.rules.delete(ruleArn)) throw notFound();
      health.refreshUse();
      return {};
    },
  };
}
