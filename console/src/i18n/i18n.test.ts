import { describe, expect, it } from "vitest";
import en from "./en";
import zh from "./zh";

function keys(obj: object, prefix = ""): string[] {
  return Object.entries(obj).flatMap(([k, v]) => (typeof v === "object" && v !== null ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

function interpolations(obj: object): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const walk = (o: object, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === "object" && v !== null) walk(v, `${prefix}${k}.`);
      else out[`${prefix}${k}`] = [...String(v).matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1] ?? "").sort();
    }
  };
  walk(obj, "");
  return out;
}

describe("every label in both languages", () => {
  it("has the same keys in zh and en", () => {
    expect(keys(en).sort()).toEqual(keys(zh).sort());
  });
  it("has no empty label and the same {{placeholders}}", () => {
    const z = interpolations(zh);
    const e = interpolations(en);
    for (const k of Object.keys(z)) {
      expect(e[k], k).toEqual(z[k]);
    }
    for (const k of keys(zh)) {
      const value = k.split(".").reduce<unknown>((o, part) => (o as Record<string, unknown>)[part], zh);
      expect(String(value).trim(), k).not.toBe("");
    }
  });
  it("is Chinese in zh (no untranslated English menu)", () => {
    for (const v of Object.values(zh.menu)) expect(v).toMatch(/[\u4e00-\u9fff]/);
  });
});
