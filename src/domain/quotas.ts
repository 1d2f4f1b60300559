/**
 * Per-project quotas, checked in the same transaction as the creation they limit. Defaults are the
 * public cloud's where it publishes one: 20 custom KMS keys (the KMS CMK quota) and 256 DWS nodes (the
 * GaussDB(DWS) node quota; a cluster counts its `num_node`). The active-job quota is ours: it keeps
 * one project's conversions and delayed creations from taking the whole store's DWS_MAX_ACTIVE_JOBS.
 */
export interface ProjectQuotas {
  /** KMS keys of the project, except those pending deletion (scheduling a deletion frees a place). */
  keys: number;
  /** Nodes of all the project's clusters. */
  nodes: number;
  /** Unfinished jobs of the project (conversions and delayed cluster creations). */
  activeJobs: number;
}

export const DEFAULT_PROJECT_QUOTAS: ProjectQuotas = { keys: 20, nodes: 256, activeJobs: 100 };

/** The nodes a stored cluster counts for (its create request's `num_node`). */
export function clusterNodes(spec: { num_node?: unknown }): number {
  return typeof spec.num_node === 'number' && spec.num_node > 0 ? spec.num_node : 1;
}
