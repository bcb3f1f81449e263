import { interpolate, stringify, type Contexts, type ExprValue } from '../expressions';
import type { WorkflowInput } from '../model';

/** Coerces inputs to their declared types, applies defaults and checks required ones. */
export function resolveInputs(
  declared: Record<string, WorkflowInput>,
  given: Record<string, ExprValue>,
  where: string,
  contexts: Contexts,
): Record<string, ExprValue> {
  const out: Record<string, ExprValue> = {};
  const lower = new Map(Object.keys(given).map((k) => [k.toLowerCase(), k]));
  for (const key of Object.keys(given))
    if (!Object.keys(declared).some((d) => d.toLowerCase() === key.toLowerCase()))
      throw new Error(
        `${where}: \`${key}\` is not an input (inputs: ${Object.keys(declared).join(', ') || 'none'})`,
      );
  for (const [name, spec] of Object.entries(declared)) {
    const key = lower.get(name.toLowerCase());
    let value: ExprValue | undefined = key !== undefined ? given[key] : undefined;
    if (value === undefined || value === null) {
      if (spec.required && spec.default === undefined)
        throw new Error(`${where}: required input \`${name}\` is not given`);
      value = spec.default === undefined ? null : interpolate(spec.default, contexts);
    }
    if (spec.type === 'boolean') {
      if (typeof value === 'string') {
        if (!/^(true|false)$/i.test(value))
          throw new Error(`${where}: input \`${name}\` must be true or false, got \`${value}\``);
        value = value.toLowerCase() === 'true';
      }
      value = value === null ? false : value;
    } else if (spec.type === 'number') {
      const n = Number(value);
      if (value !== null && Number.isNaN(n))
        throw new Error(`${where}: input \`${name}\` must be a number`);
      value = value === null ? null : n;
    } else if (spec.type === 'choice') {
      if (value !== null && spec.options && !spec.options.includes(stringify(value)))
        throw new Error(
          `${where}: input \`${name}\` must be one of ${spec.options.join(', ')}, got \`${stringify(value)}\``,
        );
    } else if (value !== null && typeof value !== 'string') value = stringify(value);
    out[name] =
      value ?? (spec.type === 'string' || spec.type === 'choice' || !spec.type ? '' : null);
  }
  return out;
}
