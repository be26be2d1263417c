/**
 * The TemplateStore port's contract, on every adapter set (dynalite, lmdb, the memory fakes).
 * Records compare with toEqual: the memory fakes copy with structuredClone, whose objects come
 * from another realm than jest's (toStrictEqual tells them apart by prototype).
 */
import type { FhirHookRecord, TemplateRecord } from '../../lambdas/core/mapping-records';
import { ORM_O01 } from '../../mapping/builtin-templates';
import { documentHash } from '../../mapping/template';
import type { TemplateDocument } from '../../mapping/template-model';
import { adapterSets, type AdapterSet } from './adapter-sets';

const record = (name: string, document: TemplateDocument, at = 1000): TemplateRecord => ({
  name,
  document,
  hash: documentHash(document),
  createdAt: at,
  updatedAt: at,
});

// Empty strings, nulls and non-ASCII must round-trip unchanged (the document is the user's).
const ODD: TemplateDocument = {
  target: 'hl7v2',
  messageType: 'ADT^A04',
  description: 'Größe ~ | ^ & \\ ""',
  segments: [{ segment: 'PID', fields: { '1': '', '2': null, '3': [{ path: "$['a b']" }, ['', { const: 'x' }]] } }],
};

describe.each(adapterSets)('TemplateStore contract: $name', (factory) => {
  let set: AdapterSet;
  beforeAll(async () => {
    set = await factory.setup();
  });
  afterAll(async () => {
    await set.cleanup();
  });

  it('stores, reads back exactly, replaces and lists templates by name', async () => {
    expect(await set.templates.get('orm')).toBeUndefined();
    await set.templates.put(record('orm', ORM_O01));
    await set.templates.put(record('b-odd', ODD));
    expect(await set.templates.get('orm')).toEqual(record('orm', ORM_O01));
    expect(await set.templates.get('b-odd')).toEqual(record('b-odd', ODD));

    const replaced = { ...record('orm', { ...ORM_O01, description: 'v2' }, 2000), createdAt: 1000 };
    await set.templates.put(replaced);
    expect(await set.templates.get('orm')).toEqual(replaced);

    expect(await set.templates.list()).toStrictEqual([
      { name: 'b-odd', target: 'hl7v2', messageType: 'ADT^A04', description: ODD.description, updatedAt: 1000 },
      { name: 'orm', target: 'hl7v2', messageType: 'ORM^O01^ORM_O01', description: 'v2', updatedAt: 2000 },
    ]);
  });

  it('deletes a template: gone from get and list; deleting again says false', async () => {
    await set.templates.put(record('to-delete', ODD));
    expect(await set.templates.delete('to-delete')).toBe(true);
    expect(await set.templates.get('to-delete')).toBeUndefined();
    expect((await set.templates.list()).map((t) => t.name)).not.toContain('to-delete');
    expect(await set.templates.delete('to-delete')).toBe(false);
  });

  it('keeps one hook per (agent, destination), replaced on put', async () => {
    const hook: FhirHookRecord = { agentId: 'a#1', destination: 'lab', fhirBaseUrl: 'http://fhir/R4', sealedToken: 'v1.x', updatedAt: 5 };
    await set.templates.putHook(hook);
    await set.templates.putHook({ agentId: 'a', destination: '1#lab', template: 'orm', updatedAt: 6 });
    expect(await set.templates.getHook('a#1', 'lab')).toEqual(hook);
    expect(await set.templates.getHook('a', '1#lab')).toEqual({ agentId: 'a', destination: '1#lab', template: 'orm', updatedAt: 6 });
    await set.templates.putHook({ agentId: 'a#1', destination: 'lab', contentType: 'application/astm', updatedAt: 7 });
    expect(await set.templates.getHook('a#1', 'lab')).toEqual({
      agentId: 'a#1',
      destination: 'lab',
      contentType: 'application/astm',
      updatedAt: 7,
    });
    expect(await set.templates.getHook('a#1', 'other')).toBeUndefined();
  });
});
