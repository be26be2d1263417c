/** Templates: store (checked), read, list, and render a preview without pushing. */
import { AstmRecordError } from '../../astm/records';
import { Hl7Error } from '../../hl7/hl7-errors';
import { MappingError } from '../../mapping/mapping-errors';
import { documentHash, renderTemplate, validateTemplate, type Rendered } from '../../mapping/template';
import { TEMPLATE_NAME, TEMPLATE_NAME_RULE } from '../../mapping/template-model';
import { DomainError } from './domain-errors';
import type { TemplateRecord, TemplateSummary } from './mapping-records';
import type { Ports, TemplateStore } from './ports';

export function templateStore(ports: Ports): TemplateStore {
  if (!ports.templates) throw new DomainError('STORE_UNAVAILABLE', 'this deployment has no template store');
  return ports.templates;
}

export function validateTemplateName(name: unknown): string {
  if (typeof name !== 'string' || !TEMPLATE_NAME.test(name)) {
    throw new DomainError('INVALID_TEMPLATE_NAME', `a template name is ${TEMPLATE_NAME_RULE}`);
  }
  return name;
}

/** Runs a mapping step, turning its errors into the API's codes (each named literally for the catalogue). */
export function mapping<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    throw asDomainError(err);
  }
}

export function asDomainError(err: unknown): unknown {
  if (err instanceof MappingError) {
    switch (err.code) {
      case 'INVALID_TEMPLATE':
        return new DomainError('INVALID_TEMPLATE', err.message);
      case 'MISSING_DATA':
        return new DomainError('MISSING_DATA', err.message);
      case 'WRONG_DATA_TYPE':
        return new DomainError('WRONG_DATA_TYPE', err.message);
      case 'UNSUPPORTED_RESOURCE':
        return new DomainError('UNSUPPORTED_RESOURCE', err.message);
    }
  }
  // The builders refuse a value no rule should produce (e.g. a 21-character MSH-10 from a header rule).
  if (err instanceof Hl7Error || err instanceof AstmRecordError) return new DomainError('WRONG_DATA_TYPE', err.message);
  return err;
}

export async function putTemplate(ports: Ports, name: string, document: unknown): Promise<{ template: TemplateRecord; created: boolean }> {
  const store = templateStore(ports);
  validateTemplateName(name);
  const doc = mapping(() => validateTemplate(document));
  const now = ports.clock.now();
  const earlier = await store.get(name);
  const template: TemplateRecord = { name, document: doc, hash: documentHash(doc), createdAt: earlier?.createdAt ?? now, updatedAt: now };
  await store.put(template);
  ports.log?.info('template stored', { name, target: doc.target, replaced: earlier !== undefined });
  return { template, created: earlier === undefined };
}

export async function getTemplate(ports: Ports, name: string): Promise<TemplateRecord> {
  const template = await templateStore(ports).get(validateTemplateName(name));
  if (!template) throw new DomainError('TEMPLATE_NOT_FOUND', `no template named ${name}; store it with PUT /templates/${name}`);
  return template;
}

export function listTemplates(ports: Ports): Promise<TemplateSummary[]> {
  return templateStore(ports).list();
}

/** POST /templates/{name}/render: the text a push would carry; MSH-10 / H-3 is PREVIEW. */
export async function previewTemplate(ports: Ports, name: string, body: Record<string, unknown>): Promise<Rendered> {
  const template = await getTemplate(ports, name);
  if (!('data' in body)) throw new DomainError('MISSING_DATA', 'send {"data": {...}}: the JSON the template takes its values from');
  return mapping(() =>
    renderTemplate(template.document, body.data, { now: new Date(ports.clock.now()), controlId: 'PREVIEW' }, template.hash),
  );
}
