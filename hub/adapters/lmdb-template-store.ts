/**
 * TemplateStore on the hub's lmdb environment (two named databases of LmdbStore's root). Every
 * write is a single put, atomic by itself; it awaits the fsync in 'flush' mode like a new push,
 * since the admin was told 2xx.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { FhirHookRecord, TemplateRecord } from '../../lambdas/core/mapping-records';
import { toTemplateSummary, type TemplateSummary } from '../../lambdas/core/mapping-records';
import type { TemplateStore } from '../../lambdas/core/ports';

export class LmdbTemplateStore implements TemplateStore {
  private readonly templates: Database<TemplateRecord, string>;
  private readonly hooks: Database<FhirHookRecord, [string, string]>;

  constructor(
    private readonly root: RootDatabase,
    private readonly durable: () => Promise<void>,
  ) {
    this.templates = root.openDB({ name: 'templates' });
    this.hooks = root.openDB({ name: 'fhir-hooks' });
  }

  async put(template: TemplateRecord): Promise<void> {
    await this.templates.put(template.name, template);
    await this.durable();
  }

  get(name: string): Promise<TemplateRecord | undefined> {
    return Promise.resolve(this.templates.get(name));
  }

  list(): Promise<TemplateSummary[]> {
    const out: TemplateSummary[] = [];
    for (const { value } of this.templates.getRange()) out.push(toTemplateSummary(value));
    return Promise.resolve(out);
  }

  async delete(name: string): Promise<boolean> {
    const removed = await this.root.transaction(() => {
      if (this.templates.get(name) === undefined) return false;
      void this.templates.remove(name);
      return true;
    });
    if (removed) await this.durable();
    return removed;
  }

  async putHook(hook: FhirHookRecord): Promise<void> {
    await this.hooks.put([hook.agentId, hook.destination], hook);
    await this.durable();
  }

  getHook(agentId: string, destination: string): Promise<FhirHookRecord | undefined> {
    return Promise.resolve(this.hooks.get([agentId, destination]));
  }
}
