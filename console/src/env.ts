// What this node is: injected into index.html by the node that serves the console
// (kam_platform.console), so the login screen can say which node and tier it is before any token.
export type Tier = "group" | "province" | "local";

export interface NodeInfo {
  code: string;
  tier: Tier;
  parent: string | null;
  name: { zh: string; en: string };
}

declare global {
  interface Window {
    __KAM_NODE__?: NodeInfo;
  }
}

export function nodeInfo(): NodeInfo | null {
  return window.__KAM_NODE__ ?? null;
}
