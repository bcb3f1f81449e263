import { randomBytes, randomInt } from 'node:crypto';

/** Lower-case hex of `bytes` random bytes. */
export function hexId(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** A decimal id of `digits` digits, not starting with 0. */
export function digitsId(digits: number): string {
  let s = String(randomInt(1, 10));
  while (s.length < digits) s += String(randomInt(0, 10));
  return s;
}

/** An alphanumeric id like the ones ECS uses in service-deployment ARNs. */
export function alnumId(length: number): string {
  const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let s = '';
  for (let i = 0; i < length; i++) s += chars[randomInt(0, chars.length)];
  return s;
}

/** A request id in the usual UUID form. */
export function requestId(): string {
  const h = hexId(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** `arn:aws:<service>:<region>:<account>:<resource>`. */
export function arn(service: string, region: string, account: string, resource: string): string {
  return `arn:aws:${service}:${region}:${account}:${resource}`;
}

/** Parses an ARN; returns undefined when `value` is not one. */
export function parseArn(
  value: string,
): { service: string; region: string; account: string; resource: string } | undefined {
  const m = /^arn:aws[a-z-]*:([^:]+):([^:]*):([^:]*):(.+)$/.exec(value);
  return m ? { service: m[1], region: m[2], account: m[3], resource: m[4] } : undefined;
}
