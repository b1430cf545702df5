"""Owns the cluster job (jax_job.schema.json ClusterJob, the `cluster/hdbscan` step): every shard's vectors in
one process on the CPU, reduced by PCA, clustered by HDBSCAN (fast-hdbscan), and per row its cluster (-1 for
noise), membership probability, GLOSH outlier score and whether its cluster is novel. No JAX: nothing here
runs on an accelerator.

fast-hdbscan, not scikit-learn's HDBSCAN: equally fast here (docs/benchmarks.md "Novelty clusters"), and it
returns the condensed tree GLOSH is computed from (scikit-learn keeps it private), and has a reproducible mode.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from .arrow_shards import ShardError, read_vector_shard, write_shard
from .job import ClusterJob, ClusterPaths

Emit = Callable[[dict[str, Any]], None]

# PCA is fitted on at most this many rows (chosen with the job's seed), then applied to every row: the
# components of 50,000 rows differ from all rows' in the noise, and fitting 1M x 2,560 would need 10 GB twice.
PCA_FIT_ROWS = 50_000
# A cluster is novel when more than this fraction of its members have no confident genus.
NOVEL_MAJORITY = 0.5
STAGES = ("read", "reduce", "cluster", "score")


def run_cluster(job: ClusterJob, paths: ClusterPaths, emit: Emit) -> dict[str, Any]:
    started = time.perf_counter()

    def progress(stage: str) -> None:
        emit({"kind": "cluster-progress", "stage": stage, "done": STAGES.index(stage), "total": len(STAGES)})

    progress("read")
    tables, parts = zip(*(read_vector_shard(p) for p in paths.shards), strict=True)
    dims = {part.shape[1] for part in parts}
    if len(dims) != 1:
        raise ShardError(f"the shards' vectors have different dimensions: {sorted(dims)}")
    vectors = np.concatenate(parts)
    candidates = _novel_candidates(tables)
    progress("reduce")
    reduced = reduce_vectors(vectors, job)
    progress("cluster")
    labels, probabilities, tree = hdbscan(reduced, job)
    progress("score")
    scores = glosh(tree, len(labels))
    novel = novel_clusters(labels, candidates)
    paths.out.mkdir(parents=True, exist_ok=True)
    start = 0
    for path, table in zip(paths.shards, tables, strict=True):
        rows = slice(start, start + table.num_rows)
        start += table.num_rows
        write_shard(
            paths.out / path.name,
            pa.table(
                {
                    "id": table.column("id"),
                    "cluster": pa.array(labels[rows], type=pa.int32()),
                    "probability": pa.array(probabilities[rows], type=pa.float32()),
                    "outlier_score": pa.array(scores[rows], type=pa.float32()),
                    "novel_cluster": pa.array(novel[labels[rows] + 1], type=pa.bool_()),
                }
            ),
        )
    return {
        "kind": "cluster-summary",
        "sequences": len(labels),
        "dim": vectors.shape[1],
        "reduced_to": reduced.shape[1],
        "clusters": int(labels.max()) + 1,
        "noise": int((labels < 0).sum()),
        "novel_clusters": int(novel[1:].sum()),
        "seconds": round(time.perf_counter() - started, 3),
        # ru_maxrss is KiB on Linux: the process's peak resident memory.
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def reduce_vectors(vectors: np.ndarray, job: ClusterJob) -> np.ndarray:
    """PCA to job.reduce_to components (cosine: of the L2-normalised vectors), fitted on at most PCA_FIT_ROWS
    rows chosen with the seed; covariance_eigh is exact and deterministic (signs fixed by scikit-learn)."""
    from sklearn.decomposition import PCA

    data = vectors.astype(np.float32, copy=False)
    if job.metric == "cosine":
        norms = np.linalg.norm(data, axis=1, keepdims=True)
        data = (data / np.where(norms > 0, norms, 1)).astype(np.float32)
    fit = data
    if len(data) > PCA_FIT_ROWS:
        rows = np.random.default_rng(job.seed).choice(len(data), PCA_FIT_ROWS, replace=False)
        fit = data[np.sort(rows)]
    pca = PCA(n_components=job.reduce_to, svd_solver="covariance_eigh").fit(fit)
    return np.ascontiguousarray(pca.transform(data), dtype=np.float32)


def hdbscan(points: np.ndarray, job: ClusterJob) -> tuple[np.ndarray, np.ndarray, Any]:
    """Labels, membership probabilities and the condensed tree (parent, child, lambda_val, child_size)."""
    from fast_hdbscan import fast_hdbscan

    found = fast_hdbscan(
        points,
        min_cluster_size=job.min_cluster_size,
        min_samples=job.min_samples,
        return_trees=True,
        reproducible=True,
    )
    labels, probabilities, _single_linkage, condensed = found[:4]
    return np.asarray(labels, dtype=np.int64), np.asarray(probabilities, dtype=np.float64), condensed


def glosh(tree: Any, points: int) -> np.ndarray:
    """GLOSH (Campello et al. 2015) from the condensed tree, as the hdbscan library computes it: for a point
    that leaves cluster C at lambda_p, (lambda_max(C) - lambda_p) / lambda_max(C), where lambda_max(C) is the
    largest lambda at which any point below C leaves. 0 for a point at its cluster's densest, towards 1 for one
    far out."""
    parent = np.asarray(tree.parent, dtype=np.int64)
    child = np.asarray(tree.child, dtype=np.int64)
    lam = np.asarray(tree.lambda_val, dtype=np.float64)
    deaths = np.zeros(int(max(parent.max(initial=points), child.max(initial=points))) + 1)
    np.maximum.at(deaths, parent, np.where(np.isfinite(lam), lam, 0))
    # Children have larger ids than their parents: walking clusters from the last up carries each maximum up.
    clusters = child >= points
    for p, c in sorted(zip(parent[clusters], child[clusters], strict=True), reverse=True):
        deaths[p] = max(deaths[p], deaths[c])
    scores = np.zeros(points)
    leaves = child < points
    top = deaths[parent[leaves]]
    own = np.where(np.isfinite(lam[leaves]), lam[leaves], top)
    scores[child[leaves]] = np.where(top > 0, (top - own) / np.where(top > 0, top, 1), 0)
    return scores


def novel_clusters(labels: np.ndarray, candidates: np.ndarray | None) -> np.ndarray:
    """Indexed by label + 1: whether the cluster is novel (index 0, noise, never is); all False without the
    classification's novel_candidate column."""
    flags = np.zeros(int(labels.max(initial=-1)) + 2, dtype=bool)
    if candidates is None:
        return flags
    members = np.bincount(labels + 1, minlength=len(flags))
    novel = np.bincount(labels + 1, weights=candidates.astype(np.float64), minlength=len(flags))
    flags[1:] = novel[1:] > NOVEL_MAJORITY * members[1:]
    return flags


def _novel_candidates(tables: tuple[pa.Table, ...]) -> np.ndarray | None:
    present = ["novel_candidate" in t.column_names for t in tables]
    if not any(present):
        return None
    if not all(present):
        raise ShardError("some shards have a novel_candidate column and some do not")
    return np.concatenate([t.column("novel_candidate").to_numpy(zero_copy_only=False) for t in tables]).astype(bool)
