import type { GraphNode } from './graph-node';

const STYLES: Record<string, string> = {
  waiting: 'fill:#f5f5f5,stroke:#999,color:#333',
  launching: 'fill:#f5f5f5,stroke:#999,color:#333',
  pending: 'fill:#fff8e1,stroke:#f0ad4e,color:#333',
  running: 'fill:#e3f2fd,stroke:#1e88e5,color:#333',
  completed: 'fill:#e8f5e9,stroke:#43a047,color:#333',
  failed: 'fill:#ffebee,stroke:#e53935,color:#333',
  cancelled: 'fill:#eeeeee,stroke:#757575,color:#333,stroke-dasharray:4 2',
};

/**
 * A Mermaid flowchart of the nodes: one box per node (its id, its task when different,
 * its status), one arrow per dependency, one class per status.
 */
export function toMermaid(nodes: readonly GraphNode[]): string {
  const lines = ['flowchart TD'];
  const used = new Set<string>();
  for (const node of nodes) {
    const task = node.task.name === node.id ? '' : `<br/><small>${escapeLabel(node.task.name)}</small>`;
    lines.push(`  n${node.index}["${escapeLabel(node.id)}${task}<br/>${node.state}"]:::${node.state}`);
    used.add(node.state);
  }
  for (const node of nodes)
    for (const child of node.children) lines.push(`  n${node.index} --> n${child.index}`);
  for (const state of used) lines.push(`  classDef ${state} ${STYLES[state]}`);
  return lines.join('\n');
}

function escapeLabel(text: string): string {
  return text.replace(/[&"<>#]/g, (character) => `#${character.charCodeAt(0)};`);
}
