// Guards of the lifecycle endpoints (POST /-/reload, /-/sweep): they change what the exporter does,
// so a web page a LAN user happens to visit must not be able to call them (CSRF).

/** Content types a browser sends cross-origin without asking first (CORS "simple" requests). */
const SIMPLE_CONTENT_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

/**
 * Why a lifecycle POST must be refused as a possible cross-site request, or null when it may go
 * on. Browsers say where a request comes from (Sec-Fetch-Site, Origin); a form or a no-cors fetch
 * can only send a simple content type. curl, Prometheus-style tooling and scripts send none of
 * these (`curl -X POST`), or a JSON body.
 */
export function crossSiteRefusal(headers: { host?: string; origin?: string; 'sec-fetch-site'?: string; 'content-type'?: string }): string | null {
  const site = headers['sec-fetch-site'];
  if (site && site !== 'same-origin' && site !== 'none') return `cross-site request refused (Sec-Fetch-Site: ${site})`;
  const origin = headers.origin;
  if (origin !== undefined) {
    let host: string | null = null;
    try {
      host = new URL(origin).host;
    } catch {
      // "null" (sandboxed frames, file: pages) or garbage: not this server
    }
    if (!host || host !== headers.host) return 'cross-origin request refused (Origin does not match Host)';
  }
  const type = headers['content-type']?.split(';')[0].trim().toLowerCase();
  if (type && SIMPLE_CONTENT_TYPES.has(type)) return `Content-Type ${type} refused: send no body (curl -X POST) or a JSON one`;
  return null;
}
