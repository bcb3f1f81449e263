// `slackapi/slack-github-action`, replaced locally: the payload the action would send, built the
// way it builds it (`payload` as YAML or JSON, or `payload-file-path`, then `payload-templated`
// and `payload-delimiter`), is POSTed to a local webhook instead of Slack.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { interpolateDeep, type ExprValue } from '../../expressions';
import type { StepKindRun, StepOutcome } from '../step';

/** The payload the Slack action would send, from its inputs. */
export function slackPayload(run: StepKindRun): ExprValue {
  const w = run.withValues;
  const text = w.payload ?? '';
  const file = w['payload-file-path'] ?? '';
  if (text && file) throw new Error('give `payload` or `payload-file-path`, not both');
  let payload: ExprValue;
  if (text) payload = parsePayload(text);
  else if (file) {
    const path = resolve(run.state.workspace, file);
    const content = readFileSync(path, 'utf8');
    if (/\.ya?ml$/.test(file)) payload = parse(content, { schema: 'core' }) as ExprValue;
    else if (file.endsWith('.json')) payload = JSON.parse(content) as ExprValue;
    else throw new Error(`\`payload-file-path\` must end in .json, .yml or .yaml: ${file}`);
  } else payload = githubContext(run);
  if (w['payload-templated'] === 'true')
    payload = interpolateDeep(payload, { env: run.stepEnv, github: run.s.github });
  const delimiter = w['payload-delimiter'];
  if (delimiter) payload = flatten(payload, delimiter);
  return payload;
}

function parsePayload(text: string): ExprValue {
  try {
    return parse(text, { schema: 'core' }) as ExprValue;
  } catch {
    const trimmed = text.trim();
    try {
      return JSON.parse(
        trimmed.startsWith('{') || trimmed.endsWith('}')
          ? trimmed
          : `{${trimmed.replace(/,$/, '')}}`,
      ) as ExprValue;
    } catch {
      throw new Error('`payload` is neither YAML nor JSON');
    }
  }
}

/** What the action sends without a payload: the run's GitHub context. */
function githubContext(run: StepKindRun): ExprValue {
  const g = run.s.github;
  return {
    payload: g.event ?? {},
    eventName: g.event_name ?? '',
    sha: g.sha ?? '',
    ref: g.ref ?? '',
    workflow: g.workflow ?? '',
    action: run.s.id,
    actor: g.actor ?? '',
    job: g.job ?? '',
    runNumber: Number(g.run_number ?? 1),
    runId: Number(g.run_id ?? 0),
    apiUrl: g.api_url ?? '',
    serverUrl: g.server_url ?? '',
    graphqlUrl: g.graphql_url ?? '',
  };
}

/** Nested keys joined with `delimiter`, every value a string (what Workflow Builder accepts). */
function flatten(value: ExprValue, delimiter: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (v: ExprValue, path: string[]): void => {
    if (v !== null && typeof v === 'object' && Object.keys(v).length) {
      for (const [k, child] of Object.entries(v)) walk(child, [...path, k]);
    } else out[path.join(delimiter)] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  };
  walk(value, []);
  return out;
}

/** Replaces a Slack step: POSTs its payload to the local webhook, or only logs it. */
export async function replaceSlack(run: StepKindRun): Promise<StepOutcome> {
  let payload: ExprValue;
  try {
    payload = slackPayload(run);
  } catch (error) {
    return run.fail(`slackapi/slack-github-action: ${(error as Error).message}`);
  }
  const { state, s } = run;
  const body = JSON.stringify(payload);
  const shown = state.masker.mask(JSON.stringify(payload, null, 2));
  for (const line of shown.split('\n'))
    state.opts.onEvent?.({ type: 'log', job: s.key, step: s.label, line });
  const url = state.opts.slackWebhookUrl;
  if (!url) {
    const note =
      'replaced locally: the Slack message was not sent (no local webhook configured); its payload is in the log';
    writeFileSync(s.logPath, `${note}\n${shown}\n`);
    return run.done({ replaced: note });
  }
  let status: number;
  let response: string;
  try {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body,
      signal: state.opts.signal,
    });
    status = r.status;
    response = await r.text();
  } catch (error) {
    return run.fail(
      `could not POST the Slack payload to the local webhook ${url}: ${(error as Error).message}`,
    );
  }
  const ok = status >= 200 && status < 300;
  const note = `replaced locally: the Slack message was POSTed to the local webhook ${url} instead of Slack (HTTP ${status})`;
  writeFileSync(s.logPath, `${note}\n${shown}\n`);
  const outputs = {
    ok: String(ok),
    response: state.masker.mask(response),
    time: String(Math.floor(Date.now() / 1000)),
  };
  if (ok) return run.done({ replaced: note, outputs });
  const problem = `the local webhook answered HTTP ${status}`;
  // Like the action: a refused message fails the step only with `errors: true`.
  if (run.withValues.errors === 'true') return { ...run.fail(problem), replaced: note, outputs };
  return run.done({
    replaced: note,
    outputs,
    annotations: [{ level: 'warning', text: problem }],
  });
}
