import { h } from './dom';
import type { JsonSchema } from './types';

/** A form generated from a task's input schema. */
export interface SchemaForm {
  element: HTMLElement;
  /** The input the fields describe, or what is wrong with them. */
  read(): { value: unknown } | { error: string };
}

/**
 * Fields for a JSON Schema (as `/openapi.json` gives each task's input): an object's
 * properties become inputs (number, text, checkbox, select for enums; JSON text for
 * nested objects and arrays) with the schema's bounds, defaults and descriptions.
 * Anything else is edited as JSON.
 */
export function schemaForm(schema: JsonSchema | undefined): SchemaForm {
  if (schema?.type !== 'object' || schema.properties === undefined) {
    const area = h('textarea', { name: 'input', rows: 4, spellcheck: 'false', 'aria-label': 'input (JSON)' });
    area.value =
      schema?.default === undefined
        ? schema?.type === 'object'
          ? '{}'
          : ''
        : JSON.stringify(schema.default);
    return {
      element: h('label', { class: 'field' }, h('span', {}, 'input (JSON)'), area),
      read: () => parseJson('input', area.value, true),
    };
  }
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties).map(([name, property]) =>
    field(name, property, required.has(name)),
  );
  return {
    element: h(
      'div',
      { class: 'fields' },
      fields.map((item) => item.element),
    ),
    read() {
      const value: Record<string, unknown> = {};
      for (const item of fields) {
        const read = item.read();
        if ('error' in read) return read;
        if (read.value !== undefined) value[item.name] = read.value;
      }
      return { value };
    },
  };
}

interface Field {
  name: string;
  element: HTMLElement;
  read(): { value: unknown } | { error: string };
}

function field(name: string, schema: JsonSchema, required: boolean): Field {
  const type = Array.isArray(schema.type) ? schema.type.find((item) => item !== 'null') : schema.type;
  const hint = [schema.description, bounds(schema)].filter(Boolean).join(' · ');
  const label = (control: HTMLElement) =>
    h(
      'label',
      { class: 'field' },
      h('span', {}, name, required ? h('abbr', { title: 'required' }, ' *') : ''),
      control,
      hint ? h('small', {}, hint) : null,
    );
  const missing = { error: `${name} is required` };

  if (schema.enum !== undefined) {
    const select = h(
      'select',
      { name },
      required ? null : h('option', { value: '' }, '—'),
      schema.enum.map((option, index) => h('option', { value: String(index) }, JSON.stringify(option))),
    );
    const defaultIndex = schema.enum.findIndex(
      (option) => JSON.stringify(option) === JSON.stringify(schema.default),
    );
    if (defaultIndex !== -1) select.value = String(defaultIndex);
    return {
      name,
      element: label(select),
      read: () =>
        select.value === ''
          ? required
            ? missing
            : { value: undefined }
          : { value: schema.enum![Number(select.value)] },
    };
  }
  if (type === 'boolean') {
    const box = h('input', { type: 'checkbox', name });
    box.checked = schema.default === true;
    return {
      name,
      element: h(
        'label',
        { class: 'field check' },
        box,
        h('span', {}, name),
        hint ? h('small', {}, hint) : null,
      ),
      read: () => ({ value: box.checked }),
    };
  }
  if (type === 'integer' || type === 'number') {
    const input = h('input', {
      type: 'number',
      name,
      step: type === 'integer' ? '1' : 'any',
      min: schema.minimum ?? schema.exclusiveMinimum,
      max: schema.maximum ?? schema.exclusiveMaximum,
      required,
    });
    if (typeof schema.default === 'number') input.value = String(schema.default);
    return {
      name,
      element: label(input),
      read() {
        if (input.value.trim() === '') return required ? missing : { value: undefined };
        const value = Number(input.value);
        if (!Number.isFinite(value)) return { error: `${name} must be a number` };
        if (type === 'integer' && !Number.isInteger(value))
          return { error: `${name} must be a whole number` };
        return { value };
      },
    };
  }
  if (type === 'string') {
    const input = h('input', {
      type: 'text',
      name,
      maxlength: schema.maxLength,
      required,
      spellcheck: 'false',
    });
    if (typeof schema.default === 'string') input.placeholder = schema.default;
    return {
      name,
      element: label(input),
      read: () => (input.value === '' ? (required ? missing : { value: undefined }) : { value: input.value }),
    };
  }
  const area = h('textarea', { name, rows: 3, spellcheck: 'false' });
  if (schema.default !== undefined) area.value = JSON.stringify(schema.default);
  return { name, element: label(area), read: () => parseJson(name, area.value, required) };
}

function parseJson(name: string, text: string, required: boolean): { value: unknown } | { error: string } {
  if (text.trim() === '') return required ? { error: `${name} is required` } : { value: undefined };
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { error: `${name} is not valid JSON` };
  }
}

function bounds(schema: JsonSchema): string {
  const low = schema.minimum ?? schema.exclusiveMinimum;
  const high = schema.maximum ?? schema.exclusiveMaximum;
  if (low !== undefined && high !== undefined) return `${low} to ${high}`;
  if (low !== undefined) return `≥ ${low}`;
  if (high !== undefined) return `≤ ${high}`;
  if (schema.maxLength !== undefined) return `up to ${schema.maxLength} characters`;
  return '';
}
