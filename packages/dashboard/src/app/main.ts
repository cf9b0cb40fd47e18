// The au dashboard: a page served by the job server (`@au/dashboard`), talking to its
// HTTP API on the same origin. Routes: `#/` the list (`#/?tag=x` filtered by a tag),
// `#/tasks/<id>` a computation, `#/schedules` and `#/dead-letters` (when the server has them).
// Pause and resume controls (the queue, each task) sit under the counts when the backend can pause.
import { Api } from './api';
import { ApiKey } from './api-key';
import { CountsView } from './counts-view';
import { DeadLettersView } from './dead-letters-view';
import { DetailView } from './detail-view';
import { ListView } from './list-view';
import { PausesView } from './pauses-view';
import { SchedulesView } from './schedules-view';
import { SubmitView } from './submit-view';

const prefix = document.querySelector<HTMLMetaElement>('meta[name="au-api-prefix"]')?.content ?? '';
const key = new ApiKey();
const api = new Api(prefix, key);

const live = document.getElementById('live') as HTMLElement;
const reportError = (error: unknown) => {
  live.classList.toggle('offline', error !== undefined);
  live.title = error === undefined ? 'live updates' : `cannot reach the server: ${(error as Error).message}`;
};

const list = new ListView(api, document.getElementById('list') as HTMLElement, {
  onHealth: reportError,
  onChanged: () => {
    void counts.refresh();
    if (detail.taskId !== undefined) void detail.show(detail.taskId);
  },
  onStatusChange: () => {
    void counts.refresh();
    if (pages['dead-letters'] !== undefined) void deadLetters.refresh();
  },
});
const counts = new CountsView(api, document.getElementById('counts') as HTMLElement, (filter) => {
  list.filter(filter);
  document.getElementById('list')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
});
const detail = new DetailView(
  api,
  document.getElementById('detail') as HTMLElement,
  (view) => list.update(view),
  (taskId) => {
    list.removed(taskId);
    void counts.refresh();
  },
);
const pauses = new PausesView(api, document.getElementById('pauses') as HTMLElement, () => {
  const isPaused = (view: Parameters<PausesView['isPaused']>[0]) => pauses.isPaused(view);
  list.setPaused(isPaused);
  detail.setPaused(isPaused);
  if (detail.taskId !== undefined) void detail.show(detail.taskId);
});
const submit = new SubmitView(api, document.getElementById('submit') as HTMLElement, (taskId) => {
  location.hash = `#/tasks/${encodeURIComponent(taskId)}`;
  void list.refresh();
  void counts.refresh();
});

const schedules = new SchedulesView(api, document.getElementById('schedules') as HTMLElement);
const deadLetters = new DeadLettersView(
  api,
  document.getElementById('dead-letters') as HTMLElement,
  (count) => {
    const link = document.querySelector<HTMLElement>('#tabs a[data-page="dead-letters"]');
    if (link === null) return;
    link.replaceChildren('Dead letters');
    if (count > 0) {
      const badge = document.createElement('span');
      badge.className = 'tab-count';
      badge.textContent = String(count);
      link.append(badge);
    }
  },
);

/** The pages besides the computations, each shown when the server's API has its path. */
const pages: Record<string, { path: string; view: { open(): void; close(): void } }> = {
  schedules: { path: '/schedules', view: schedules },
  'dead-letters': { path: '/dead-letters', view: deadLetters },
};
let page = 'computations';

function showPage(name: string): void {
  if (name !== page) pages[page]?.view.close();
  page = name;
  for (const element of document.querySelectorAll<HTMLElement>('main[id^="page-"]')) {
    element.hidden = element.id !== `page-${name}`;
  }
  for (const link of document.querySelectorAll<HTMLAnchorElement>('#tabs a')) {
    if (link.dataset.page === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  pages[name]?.view.open();
}

(document.getElementById('server') as HTMLElement).textContent = `${location.host}${prefix}`;
const changeKey = document.getElementById('change-key') as HTMLButtonElement;
changeKey.hidden = key.get() === undefined;
changeKey.addEventListener('click', () => {
  key.forget();
  void key.ask('Enter the API key to use (kept in this tab only).').then(() => list.refresh());
});

/** Follows `GET /events`: rows and counts change as the server's computations do. */
function watchAll(): void {
  const controller = new AbortController();
  live.dataset.feed = 'events';
  void api
    .watch(
      {
        onView: (view) => list.changed(view),
        onReset: () => {
          void list.refresh();
          void counts.refresh();
        },
        onLive: (connected) => {
          list.setFeed(connected);
          live.classList.toggle('polling', !connected);
        },
      },
      controller.signal,
    )
    .catch(() => list.setFeed(false));
}

function route(): void {
  const named = /^#\/([a-z-]+)$/.exec(location.hash)?.[1];
  if (named !== undefined && pages[named] !== undefined) {
    showPage(named);
    return;
  }
  showPage('computations');
  const tag = /^#\/\?tag=(.*)$/.exec(location.hash);
  if (tag !== null) {
    list.filter({ tag: decodeURIComponent(tag[1]!) });
    history.replaceState(null, '', '#/');
  }
  const match = /^#\/tasks\/(.+)$/.exec(location.hash);
  const taskId = match === null ? undefined : decodeURIComponent(match[1]!);
  list.select(taskId);
  if (taskId === undefined) detail.close();
  else if (taskId !== detail.taskId) {
    void detail.show(taskId);
    // One column on narrow screens: the detail sits below the list, bring it into view.
    if (window.matchMedia('(max-width: 1000px)').matches) {
      document.getElementById('detail')?.scrollIntoView({ block: 'start' });
    }
  }
}

window.addEventListener('hashchange', route);

async function start(): Promise<void> {
  try {
    const { tasks, paths } = await api.describe();
    let extra = 0;
    for (const [name, { path }] of Object.entries(pages)) {
      const link = document.querySelector<HTMLElement>(`#tabs a[data-page="${name}"]`);
      if (link !== null) link.hidden = !paths.has(path);
      if (!paths.has(path)) delete pages[name];
      else extra += 1;
    }
    (document.getElementById('tabs') as HTMLElement).hidden = extra === 0;
    if (paths.has('/events')) watchAll();
    const retry = paths.has('/tasks/{id}/retry');
    detail.setFeatures({ logs: paths.has('/tasks/{id}/logs'), retry });
    list.setRetry(retry);
    counts.useStats(paths.has('/stats'));
    deadLetters.setTasks(tasks.map((task) => task.name));
    if (pages['dead-letters'] !== undefined) void deadLetters.refresh();
    submit.setTasks(tasks);
    list.setTasks(tasks.map((task) => task.name));
    counts.setTasks(tasks.map((task) => task.name));
    if (paths.has('/pauses')) {
      pauses.setTasks(tasks.map((task) => task.name));
      void pauses.refresh();
    }
  } catch (error) {
    reportError(error);
  }
  route();
  await Promise.all([list.refresh(), counts.refresh()]);
}

void start();
