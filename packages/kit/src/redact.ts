import * as core from './core';

/**
 * Returns `url` safe to print: the password (and a user name that looks like a token) is
 * replaced by `***`, and query parameters named like credentials are hidden. The hidden values
 * are also registered as secrets so the runner masks them anywhere else.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/\/\/[^/@\s]*@/, '//***@');
  }
  if (parsed.password) {
    core.setSecret(decodeURIComponent(parsed.password));
    parsed.password = '***';
  }
  for (const key of [...parsed.searchParams.keys()]) {
    if (/token|secret|password|passwd|pwd|key|signature|auth|credential/i.test(key)) {
      const value = parsed.searchParams.get(key);
      if (value) core.setSecret(value);
      parsed.searchParams.set(key, '***');
    }
  }
  return parsed.toString().replace(/%2A%2A%2A/g, '***');
}
