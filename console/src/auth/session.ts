// The signed-in user: the bearer token from the node's password grant and its claims
// (sub, node, scope_node, roles, perms, name, exp — docs/architecture.md), kept in localStorage.
export interface Claims {
  sub: string;
  node: string;
  scope_node: string;
  roles: string[];
  perms: string[];
  name?: string;
  exp: number;
  must_change_password?: boolean;
}

export interface Session {
  token: string;
  claims: Claims;
}

const KEY = "kam.session";
type Listener = (s: Session | null) => void;
const listeners = new Set<Listener>();

function base64UrlDecode(part: string): string {
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** The claims of a JWT (not verified: the services verify it; the console only reads it). */
export function decodeClaims(token: string): Claims {
  const part = token.split(".")[1];
  if (!part) throw new Error("not a JWT");
  const claims = JSON.parse(base64UrlDecode(part)) as Claims;
  return { ...claims, roles: claims.roles ?? [], perms: claims.perms ?? [] };
}

export function isExpired(claims: Claims, nowSeconds = Date.now() / 1000): boolean {
  return claims.exp <= nowSeconds;
}

/** The same rule as kam_platform.auth.Principal.has: the permission itself or "*". */
export function hasPermission(claims: Claims | null | undefined, permission: string): boolean {
  if (!claims) return false;
  return claims.perms.includes("*") || claims.perms.includes(permission);
}

export function currentSession(): Session | null {
  const raw = localStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const claims = decodeClaims(raw);
    if (isExpired(claims)) {
      localStorage.removeItem(KEY);
      return null;
    }
    return { token: raw, claims };
  } catch {
    localStorage.removeItem(KEY);
    return null;
  }
}

export function signIn(token: string): Session {
  const session = { token, claims: decodeClaims(token) };
  localStorage.setItem(KEY, token);
  listeners.forEach((l) => l(session));
  return session;
}

export function signOut(): void {
  localStorage.removeItem(KEY);
  listeners.forEach((l) => l(null));
}

export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
