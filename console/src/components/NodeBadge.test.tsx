import { act, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { LangProvider, useLang } from "../lang";
import NodeBadge from "./NodeBadge";

function Switch() {
  const { setLang } = useLang();
  return (
    <button type="button" onClick={() => setLang("en")}>
      en
    </button>
  );
}

describe("NodeBadge", () => {
  afterEach(() => {
    delete window.__KAM_NODE__;
    localStorage.clear();
  });

  it("names the node and its tier in the chosen language, and remembers the choice", async () => {
    window.__KAM_NODE__ = { code: "gd", tier: "province", parent: "hq", name: { zh: "广东", en: "Guangdong" } };
    render(
      <LangProvider>
        <NodeBadge />
        <Switch />
      </LangProvider>,
    );
    expect(screen.getByTestId("node-badge").textContent).toContain("广东 · 省级节点");
    await act(async () => screen.getByText("en").click());
    expect(screen.getByTestId("node-badge").textContent).toContain("Guangdong · Province node");
    expect(localStorage.getItem("kam.lang")).toBe("en");
  });
});
