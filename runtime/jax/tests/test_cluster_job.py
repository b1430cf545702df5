"""The cluster job (cluster_job.py) as the engine runs it: the golden job the TypeScript side builds parses;
separated blobs come back as clusters and a far point as noise with the highest GLOSH score; the same job
writes the same bytes twice; GLOSH and novel_cluster follow their definitions on hand-made inputs; cosine
ignores each vector's length."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pytest
from helpers import golden

from strand_jax.arrow_shards import vector_table, write_shard
from strand_jax.cluster_job import glosh, novel_clusters, run_cluster
from strand_jax.job import ClusterJob, ClusterPaths, JaxJobError, parse_local_run

JOB = ClusterJob(reduce_to=4, metric="euclidean", min_cluster_size=10, min_samples=5, seed=0)


def blobs(seed: int = 1) -> np.ndarray:
    """Three tight blobs of 100 in 24 dimensions, far apart, and one point far from all of them (the last)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 24)) * 10
    points = centres[np.repeat(np.arange(3), 100)] + rng.normal(size=(300, 24)) * 0.5
    return np.vstack([points, centres.mean(axis=0) + 40]).astype(np.float32)


def write_shards(folder: Path, vectors: np.ndarray, candidates: np.ndarray | None = None) -> ClusterPaths:
    """Two input shards as the step writes them (id, vector, novel_candidate?)."""
    folder.mkdir(parents=True, exist_ok=True)
    half = len(vectors) // 2
    files = []
    for index, rows in enumerate((slice(0, half), slice(half, len(vectors)))):
        table = vector_table([f"s{i}" for i in range(len(vectors))[rows]], vectors[rows])
        if candidates is not None:
            table = table.append_column("novel_candidate", pa.array(candidates[rows]))
        write_shard(folder / f"{index}.arrow", table)
        files.append(folder / f"{index}.arrow")
    return ClusterPaths(tuple(files), folder / "out")


def read_results(paths: ClusterPaths) -> pa.Table:
    return pa.concat_tables(pa.ipc.open_file(str(paths.out / p.name)).read_all() for p in paths.shards)


def test_the_golden_cluster_job_parses_with_its_paths():
    run = parse_local_run({"job": golden("cluster-job.json"), "paths": {"shards": ["a.arrow"], "out": "out"}})
    assert run.job == ClusterJob(reduce_to=16, metric="cosine", min_cluster_size=8, min_samples=8, seed=0)
    assert run.paths == ClusterPaths((Path("a.arrow"),), Path("out"))


def test_the_schema_refuses_an_unknown_metric_naming_the_path():
    job = {**golden("cluster-job.json"), "metric": "manhattan"}
    with pytest.raises(JaxJobError, match="job/metric"):
        parse_local_run({"job": job, "paths": {"shards": ["a.arrow"], "out": "out"}})


def test_blobs_become_clusters_and_the_far_point_noise_with_the_highest_outlier_score(tmp_path):
    paths = write_shards(tmp_path, blobs())
    events: list[dict] = []
    summary = run_cluster(JOB, paths, events.append)
    assert [e["stage"] for e in events] == ["read", "reduce", "cluster", "score"]
    assert (summary["clusters"], summary["noise"], summary["novel_clusters"]) == (3, 1, 0)
    result = read_results(paths)
    assert result.column("id").to_pylist() == [f"s{i}" for i in range(301)]
    labels = result.column("cluster").to_numpy()
    assert sorted(set(labels[:300].tolist())) == [0, 1, 2] and labels[300] == -1
    # Each blob is one cluster.
    assert all(len(set(labels[b * 100 : (b + 1) * 100])) == 1 for b in range(3))
    scores = result.column("outlier_score").to_numpy()
    assert scores.argmax() == 300 and ((scores >= 0) & (scores <= 1)).all()
    probabilities = result.column("probability").to_numpy()
    assert probabilities[300] == 0 and (probabilities[:300] > 0).all()
    assert not result.column("novel_cluster").to_numpy(zero_copy_only=False).any()


def test_the_same_job_writes_the_same_bytes(tmp_path):
    vectors = blobs(seed=7)
    first = write_shards(tmp_path / "a", vectors)
    second = write_shards(tmp_path / "b", vectors)
    run_cluster(JOB, first, lambda _: None)
    run_cluster(JOB, second, lambda _: None)
    for a, b in zip(first.shards, second.shards, strict=True):
        assert (first.out / a.name).read_bytes() == (second.out / b.name).read_bytes()


def test_a_cluster_is_novel_when_most_of_its_members_are_novel_candidates(tmp_path):
    candidates = np.zeros(301, dtype=bool)
    candidates[0:60] = True  # 60 of blob 0's 100: novel
    candidates[100:150] = True  # 50 of blob 1's 100: not more than half
    candidates[300] = True  # noise is never a novel cluster
    paths = write_shards(tmp_path, blobs(), candidates)
    assert run_cluster(JOB, paths, lambda _: None)["novel_clusters"] == 1
    novel = read_results(paths).column("novel_cluster").to_numpy(zero_copy_only=False)
    assert novel[:100].all() and not novel[100:].any()


def test_novel_clusters_by_label_without_and_with_candidates():
    labels = np.array([-1, 0, 0, 0, 1, 1])
    assert novel_clusters(labels, None).tolist() == [False, False, False]
    candidates = np.array([True, True, True, False, False, True])
    assert novel_clusters(labels, candidates).tolist() == [False, True, False]


def test_glosh_follows_its_definition_on_a_hand_made_condensed_tree():
    # Points 0-3, root 4. Point 3 leaves the root at lambda 0.5; cluster 5 (0, 1, 2) splits off at lambda 1;
    # in it point 0 leaves at 2, points 1 and 2 at 4, so lambda_max is 4 for both clusters.
    tree = SimpleNamespace(
        parent=np.array([4, 4, 5, 5, 5]),
        child=np.array([3, 5, 0, 1, 2]),
        lambda_val=np.array([0.5, 1.0, 2.0, 4.0, 4.0]),
        child_size=np.array([1, 3, 1, 1, 1]),
    )
    assert glosh(tree, 4).tolist() == [0.5, 0.0, 0.0, 0.875]


def test_cosine_ignores_each_vectors_length(tmp_path):
    vectors = blobs()
    scaled = vectors * np.random.default_rng(3).uniform(0.5, 4, size=(len(vectors), 1)).astype(np.float32)
    job = ClusterJob(reduce_to=4, metric="cosine", min_cluster_size=10, min_samples=5, seed=0)
    plain, stretched = write_shards(tmp_path / "a", vectors), write_shards(tmp_path / "b", scaled)
    run_cluster(job, plain, lambda _: None)
    run_cluster(job, stretched, lambda _: None)
    assert read_results(plain).column("cluster") == read_results(stretched).column("cluster")
