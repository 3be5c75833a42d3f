import { beforeEach, describe, expect, it } from "vitest";
import { currentSession, decodeClaims, hasPermission, isExpired, signIn, signOut, type Claims } from "./session";

function jwt(claims: object): string {
  const b64 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `${b64('{"alg":"EdDSA"}')}.${b64(JSON.stringify(claims))}.sig`;
}

const base = { sub: "admin", node: "gd", scope_node: "gd", roles: ["sys_admin"], perms: ["customer:read"], name: "系统管理员" };

describe("session", () => {
  beforeEach(() => localStorage.clear());

  it("decodes UTF-8 claims from a base64url JWT", () => {
    const c = decodeClaims(jwt({ ...base, exp: 2e9 }));
    expect(c.name).toBe("系统管理员");
    expect(c.perms).toEqual(["customer:read"]);
  });

  it("checks permissions like the services (the permission or *)", () => {
    const c = { ...base, exp: 2e9 } as Claims;
    expect(hasPermission(c, "customer:read")).toBe(true);
    expect(hasPermission(c, "customer:update")).toBe(false);
    expect(hasPermission({ ...c, perms: ["*"] }, "anything:at-all")).toBe(true);
    expect(hasPermission(null, "customer:read")).toBe(false);
  });

  it("forgets an expired or malformed token", () => {
    signIn(jwt({ ...base, exp: 2e9 }));
    expect(currentSession()?.claims.sub).toBe("admin");
    localStorage.setItem("kam.session", jwt({ ...base, exp: 10 }));
    expect(currentSession()).toBeNull();
    localStorage.setItem("kam.session", "garbage");
    expect(currentSession()).toBeNull();
    expect(isExpired({ ...base, exp: 100 } as Claims, 99)).toBe(false);
    signIn(jwt({ ...base, exp: 2e9 }));
    signOut();
    expect(currentSession()).toBeNull();
  });
});
