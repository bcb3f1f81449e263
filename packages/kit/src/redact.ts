import * as core from './core';

const CREDENTIAL_PARAM = /token|secret|password|passwd|pwd|key|signature|auth|credential/i;

/** Registers `value` as a secret, as written and percent-decoded when that differs. */
function mask(value: string): void {
  if (!value) return;
  core.setSecret(value);
  let decoded = value;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    // Not valid percent-encoding: the value as written is the one that could be printed.
  }
  if (decoded && decoded !== value) core.setSecret(decoded);
}

/**
 * Returns `url` safe to print: both parts of the userinfo, the user name (often a token, as in
 * `https://ghp_…@host/` or `https://ghp_…:x-oauth-basic@host/`) and the password, are replaced
 * by `***`, and query parameters named like credentials are hidden. Every hidden value is also
 * registered as a secret, so the runner masks it anywhere else it might appear.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return redactUnparsed(url);
  }
  if (parsed.username) {
    mask(parsed.username);
    parsed.username = '***';
  }
  if (parsed.password) {
    mask(parsed.password);
    parsed.password = '***';
  }
  for (const key of new Set(parsed.searchParams.keys())) {
    if (CREDENTIAL_PARAM.test(key)) {
      for (const value of parsed.searchParams.getAll(key)) mask(value);
      parsed.searchParams.set(key, '***');
    }
  }
  return parsed.toString().replace(/%2A%2A%2A/g, '***');
}

/** For text the URL parser refuses: hides whatever sits between `//` and the last `@` before the path. */
function redactUnparsed(url: string): string {
  return url.replace(/\/\/([^/?#\s]*)@/, (_all, userinfo: string) => {
    for (const part of new Set([userinfo, ...userinfo.split(':')])) mask(part);
    return '//***@';
  });
}
