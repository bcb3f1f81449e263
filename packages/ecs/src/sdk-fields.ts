import { RegisterTaskDefinitionRequest$ } from '@aws-sdk/client-ecs';

type Ref = unknown;

function deref(ref: Ref): unknown {
  let current = ref;
  for (let i = 0; i < 8; i++) {
    if (typeof current === 'function') current = (current as () => unknown)();
    else if (Array.isArray(current) && typeof current[0] !== 'number' && current.length === 2)
      current = current[0];
    else break;
  }
  return current;
}

function label(item: unknown, index: number): string {
  if (item && typeof item === 'object' && typeof (item as { name?: unknown }).name === 'string')
    return (item as { name: string }).name;
  return String(index);
}

function walk(value: unknown, ref: Ref, path: string, out: string[], depth: number): void {
  if (depth > 12 || value === null || value === undefined) return;
  const schema = deref(ref);
  if (!Array.isArray(schema) || typeof schema[0] !== 'number') return;
  const kind = schema[0] as number;
  if (kind === 3 && typeof value === 'object' && !Array.isArray(value)) {
    const names = schema[4] as string[];
    const members = schema[5] as Ref[];
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      const at = names.indexOf(key);
      const p = path ? `${path}.${key}` : key;
      if (at < 0) out.push(p);
      else walk(v, members[at], p, out, depth + 1);
    }
  } else if (kind === 1 && Array.isArray(value)) {
    value.forEach((item, i) => walk(item, schema[4], `${path}[${label(item, i)}]`, out, depth + 1));
  } else if (kind === 2 && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      walk(v, schema[5], `${path}.${k}`, out, depth + 1);
  }
}

/**
 * Paths of the fields in a RegisterTaskDefinition input that the pinned AWS SDK does not know
 * (it would drop them silently), e.g. `containerDefinitions[web].newSetting`. Read from the
 * SDK's own schema, so it follows the SDK version bundled.
 */
export function unknownTaskDefinitionFields(definition: object): string[] {
  const out: string[] = [];
  walk(definition, RegisterTaskDefinitionRequest$, '', out, 0);
  return out;
}

/** Removes the fields listed by {@link unknownTaskDefinitionFields} from a deep copy of `definition`. */
export function withoutFields<T extends object>(definition: T, paths: string[]): T {
  const copy = structuredClone(definition) as Record<string, unknown>;
  for (const path of paths) {
    const parts = path.match(/[^.[\]]+/g) ?? [];
    let node: unknown = copy;
    for (let i = 0; i < parts.length - 1 && node; i++) {
      const part = parts[i];
      if (Array.isArray(node)) {
        node = node.find((item, index) => label(item, index) === part);
      } else {
        node = (node as Record<string, unknown>)[part];
      }
    }
    if (node && typeof node === 'object' && !Array.isArray(node)) {
      delete (node as Record<string, unknown>)[parts[parts.length - 1]];
    }
  }
  return copy as T;
}
