import { h } from './dom';

/** The launch options `POST /{task}` takes as query parameters. */
export interface LaunchOptions {
  tags?: string[];
  priority?: number;
  /** Milliseconds before the computation may start. */
  delay?: number;
  /** The computation's key (its id): the same key and input join one computation. */
  key?: string;
}

/** The fields of the launch options, folded under "Launch options". */
export interface LaunchOptionsForm {
  element: HTMLElement;
  /** The options filled in (empty fields left out), or what is wrong with one. */
  read(): { value: LaunchOptions } | { error: string };
}

// As `@au/http` checks them (launch-query.ts); the server has the last word.
const KEY = /^[A-Za-z0-9_.:-]{1,200}$/;
const MAX_PRIORITY = 1_000_000;
const MAX_DELAY = 365 * 24 * 3600 * 1000;

/** Tags, priority, delay and key for a submit, each optional. */
export function launchOptionsForm(): LaunchOptionsForm {
  const tags = h('input', {
    type: 'text',
    name: 'tags',
    placeholder: 'nightly, billing',
    spellcheck: 'false',
  });
  const priority = h('input', {
    type: 'number',
    name: 'priority',
    step: '1',
    min: -MAX_PRIORITY,
    max: MAX_PRIORITY,
    placeholder: "the task's",
  });
  const delay = h('input', {
    type: 'number',
    name: 'delay',
    step: '1',
    min: 0,
    max: MAX_DELAY,
    placeholder: '0',
  });
  const key = h('input', {
    type: 'text',
    name: 'key',
    maxlength: 200,
    spellcheck: 'false',
    placeholder: 'a new id',
  });
  const field = (label: string, control: HTMLElement, hint: string) =>
    h('label', { class: 'field' }, h('span', {}, label), control, h('small', {}, hint));
  const element = h(
    'details',
    { class: 'launch-options' },
    h('summary', {}, 'Launch options'),
    h(
      'div',
      { class: 'fields' },
      field('tags', tags, 'comma-separated: list and filter it by them'),
      field('priority', priority, 'a whole number; higher runs first'),
      field('delay (ms)', delay, 'wait this long before it may start'),
      field('key', key, 'letters, digits and _ . : - ; the same key and input join one computation'),
    ),
  );
  return {
    element,
    read() {
      const value: LaunchOptions = {};
      const tagList = tags.value
        .split(',')
        .map((tag) => tag.trim())
        .filter((tag) => tag !== '');
      if (tagList.length > 0) value.tags = tagList;
      const whole = (input: HTMLInputElement, name: string, min: number, max: number) => {
        if (input.value.trim() === '') return undefined;
        const number = Number(input.value);
        if (!Number.isInteger(number) || number < min || number > max) {
          return { error: `${name} must be a whole number from ${min} to ${max}` };
        }
        return number;
      };
      const priorityValue = whole(priority, 'priority', -MAX_PRIORITY, MAX_PRIORITY);
      if (typeof priorityValue === 'object') return priorityValue;
      if (priorityValue !== undefined) value.priority = priorityValue;
      const delayValue = whole(delay, 'delay', 0, MAX_DELAY);
      if (typeof delayValue === 'object') return delayValue;
      if (delayValue !== undefined) value.delay = delayValue;
      const keyValue = key.value.trim();
      if (keyValue !== '') {
        if (!KEY.test(keyValue)) {
          return { error: 'key: use 1 to 200 letters, digits and _ . : - (no spaces)' };
        }
        value.key = keyValue;
      }
      return { value };
    },
  };
}

/** The query string of a launch: `async=true` and the options given. */
export function launchQuery(options: LaunchOptions): URLSearchParams {
  const query = new URLSearchParams({ async: 'true' });
  if (options.tags !== undefined && options.tags.length > 0) query.set('tags', options.tags.join(','));
  if (options.priority !== undefined) query.set('priority', String(options.priority));
  if (options.delay !== undefined) query.set('delay', String(options.delay));
  if (options.key !== undefined) query.set('key', options.key);
  return query;
}
