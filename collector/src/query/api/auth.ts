import { createHash, timingSafeEqual } from 'node:crypto';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Checks `Authorization: Bearer <token>` against the configured tokens. Tokens are
 * compared as SHA-256 digests (equal length, so `timingSafeEqual` applies and the
 * comparison time says nothing about a token's length or content), and every token is
 * compared, so the time does not say which one matched either.
 */
export function bearerChecker(tokens: readonly string[]): (header: string | undefined) => boolean {
  const digests = tokens.filter((t) => t.length > 0).map(digest);
  return (header) => {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
    const given = m?.[1];
    if (given === undefined) return false;
    const d = digest(given);
    let ok = false;
    for (const t of digests) ok = timingSafeEqual(d, t) || ok;
    return ok;
  };
}
