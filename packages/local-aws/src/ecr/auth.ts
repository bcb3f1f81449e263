/**
 * Registry credentials: GetAuthorizationToken hands out `AWS:<password>` where the password is
 * an expiry time and an HMAC of it under a key that lives as long as the server.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** ECR tokens are valid for 12 hours. */
export const TOKEN_LIFETIME_MS = 12 * 60 * 60 * 1000;

/** The user name ECR registry credentials carry. */
export const REGISTRY_USER = 'AWS';

/** Issues and verifies registry passwords. */
export class TokenIssuer {
  constructor(private readonly key: Buffer = randomBytes(32)) {}

  private mac(expiresAt: number): string {
    return createHmac('sha256', this.key).update(`ecr-token:${expiresAt}`).digest('base64url');
  }

  /** A password valid until `now + TOKEN_LIFETIME_MS`; `expiresAt` is epoch milliseconds. */
  issue(now: number = Date.now()): { password: string; expiresAt: number } {
    const expiresAt = Math.floor((now + TOKEN_LIFETIME_MS) / 1000) * 1000;
    return { password: `${expiresAt}.${this.mac(expiresAt)}`, expiresAt };
  }

  /** True when `password` was issued by this issuer and has not expired. */
  verify(password: string, now: number = Date.now()): boolean {
    const match = /^(\d{1,15})\.([\w-]{43})$/.exec(password);
    if (!match) return false;
    const expiresAt = Number(match[1]);
    if (expiresAt <= now) return false;
    const expected = Buffer.from(this.mac(expiresAt));
    const given = Buffer.from(match[2]);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** True when an `Authorization` header carries Basic credentials `AWS:<valid password>`. */
  verifyAuthorizationHeader(header: string | undefined, now: number = Date.now()): boolean {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
    if (!match) return false;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    return decoded.slice(0, colon) === REGISTRY_USER && this.verify(decoded.slice(colon + 1), now);
  }
}
