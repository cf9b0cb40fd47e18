import { h } from './dom';

/**
 * The header cell whose checkbox selects, or clears, every row on the page: the keys of
 * `items` go into or out of `checked`, then the view renders again.
 */
export function selectAllCell(
  items: readonly { taskId: string }[],
  checked: Set<string>,
  render: () => void,
): HTMLTableCellElement {
  const allChecked = items.length > 0 && items.every((item) => checked.has(item.taskId));
  return h(
    'th',
    { class: 'check' },
    h('input', {
      type: 'checkbox',
      name: 'select-all',
      'aria-label': 'select all on this page',
      checked: allChecked,
      onchange: (event) => {
        const on = (event.target as HTMLInputElement).checked;
        for (const item of items) {
          if (on) checked.add(item.taskId);
          else checked.delete(item.taskId);
        }
        render();
      },
    }),
  );
}
