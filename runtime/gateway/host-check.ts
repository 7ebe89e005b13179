import { isIP } from 'node:net';

/**
 * DNS rebinding defence (the class of Vite's CVE-2025-24010): a web page on attacker.example can
 * point its own name at 127.0.0.1 and then read whatever answers there, but the browser still
 * sends `Host: attacker.example`. So while fngate listens on a loopback address only, a request
 * must name localhost, a loopback IP, or a host the config allows. Bound to another interface the
 * server is meant to be reached under other names, and nothing is checked.
 *
 * Returns the check, or null when every Host is accepted.
 */
export function createHostCheck(allowed: true | readonly string[], boundAddress: string): ((host: string | undefined) => boolean) | null {
  if (allowed === true || !isLoopback(boundAddress)) return null;
  const exact = new Set(allowed.filter((entry) => !entry.startsWith('.')));
  const domains = allowed.filter((entry) => entry.startsWith('.')).map((entry) => entry.slice(1));
  return (host) => {
    // Only HTTP/1.0 may leave Host out, and browsers always send it.
    if (host === undefined) return true;
    const name = hostname(host);
    if (isLoopback(name) || exact.has(name)) return true;
    for (const domain of domains) if (name === domain || name.endsWith(`.${domain}`)) return true;
    return false;
  };
}

/**
 * localhost and its subdomains (RFC 6761: they always resolve to loopback, browsers included),
 * 127.0.0.0/8, ::1 and their IPv4-mapped forms.
 */
export function isLoopback(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  const ip = name.startsWith('::ffff:') && isIP(name.slice(7)) === 4 ? name.slice(7) : name;
  const family = isIP(ip);
  if (family === 4) return ip.startsWith('127.');
  return family === 6 && /^(0{0,4}:){2,7}0{0,3}1$|^::1$/.test(ip);
}

/** The host name of a Host header value, lower-case, without port, brackets or a final dot. */
function hostname(host: string): string {
  let name = host.trim().toLowerCase();
  if (name.startsWith('[')) {
    const end = name.indexOf(']');
    name = end === -1 ? name : name.slice(1, end);
  } else {
    const colon = name.indexOf(':');
    if (colon !== -1) name = name.slice(0, colon);
  }
  return name.endsWith('.') ? name.slice(0, -1) : name;
}
