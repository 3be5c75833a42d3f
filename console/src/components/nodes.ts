import type { OrgNode } from "../api/types";

export interface NodeTree {
  node: OrgNode;
  children: NodeTree[];
}

/** The node list as a tree (roots: nodes whose parent is not in the list). */
export function buildTree(nodes: OrgNode[]): NodeTree[] {
  const byCode = new Map(nodes.map((n) => [n.code, { node: n, children: [] as NodeTree[] }]));
  const roots: NodeTree[] = [];
  for (const t of byCode.values()) {
    const parent = t.node.parent ? byCode.get(t.node.parent) : undefined;
    if (parent) parent.children.push(t);
    else roots.push(t);
  }
  return roots;
}

/** Every code in the subtree rooted at `code` (itself included). */
export function subtreeCodes(nodes: OrgNode[], code: string): string[] {
  const out = [code];
  for (let i = 0; i < out.length; i++) {
    for (const n of nodes) if (n.parent === out[i]) out.push(n.code);
  }
  return out;
}
