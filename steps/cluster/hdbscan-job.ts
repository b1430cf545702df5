// Owns cluster/hdbscan's params and the cluster job it hands the Python runtime (jax_job.schema.json
// ClusterJob, runtime/jax cluster_job.py): only the settings that change the clusters, with min_samples
// resolved (HDBSCAN's convention: min_cluster_size when not given).
import type { ClusterJob } from '../../engine/index.js';

/** As the step receives them: every param with a schema default is filled in. */
export interface HdbscanParams {
  min_cluster_size: number;
  min_samples?: number;
  reduce_to: number;
  metric: ClusterJob['metric'];
  seed: number;
}

export function hdbscanClusterJob(p: HdbscanParams): ClusterJob {
  return {
    kind: 'cluster',
    reduce_to: p.reduce_to,
    metric: p.metric,
    min_cluster_size: p.min_cluster_size,
    min_samples: p.min_samples ?? p.min_cluster_size,
    seed: p.seed,
  };
}
