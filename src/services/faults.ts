/**
 * The fault rules of one running instance (kept in memory: rules are per instance, never shared
 * through the store, and a restart or `POST /_dws/reset` clears them).
 */
import { randomUUID } from 'node:crypto';
import { ANY_OPERATION, type FaultRule, type FaultRuleInput } from '../domain/faults.js';

export interface FaultTarget {
  operation: string;
  projectId?: string | undefined;
  clusterId?: string | undefined;
}

export class FaultRules {
  private readonly rules = new Map<string, FaultRule>();
  /** The operationIds a rule may name (filled in as the app registers its routes). */
  readonly operations = new Set<string>();

  constructor(private readonly random: () => number = Math.random) {}

  /** Rules that can still answer a call (a rule whose count is used up stays listed, inactive). */
  get activeCount(): number {
    let n = 0;
    for (const rule of this.rules.values()) if (rule.remaining !== 0) n++;
    return n;
  }

  add(input: FaultRuleInput): FaultRule {
    const rule: FaultRule = {
      ...input,
      id: randomUUID(),
      probability: input.probability ?? 1,
      hits: 0,
      ...(input.count !== undefined ? { remaining: input.count } : {}),
    };
    this.rules.set(rule.id, rule);
    return { ...rule };
  }

  list(): FaultRule[] {
    return [...this.rules.values()].map((rule) => ({ ...rule }));
  }

  remove(id: string): boolean {
    return this.rules.delete(id);
  }

  clear(): void {
    this.rules.clear();
  }

  /**
   * The first rule (in the order they were added) that applies to this call, counted as hit; a rule
   * whose count is used up stays listed but answers no more calls. Probability is drawn per matching rule.
   */
  take(target: FaultTarget): FaultRule | undefined {
    if (this.rules.size === 0) return undefined;
    for (const rule of this.rules.values()) {
      if (rule.remaining === 0) continue;
      if (rule.operation !== ANY_OPERATION && rule.operation !== target.operation) continue;
      if (rule.project_id !== undefined && rule.project_id !== target.projectId) continue;
      if (rule.cluster_id !== undefined && rule.cluster_id.toLowerCase() !== target.clusterId?.toLowerCase())
        continue;
      if (rule.probability < 1 && this.random() >= rule.probability) continue;
      rule.hits++;
      if (rule.remaining !== undefined) rule.remaining--;
      return { ...rule };
    }
    return undefined;
  }
}
