"""The baseline of bench/cluster.ts: the libraries cluster/hdbscan uses, called from a plain Python script.

  python hdbscan_plain.py make FILE N DIM        seeded synthetic vectors (50 Gaussian blobs) as an Arrow
                                                 IPC file (id, vector), the input both sides cluster
  python hdbscan_plain.py fast FILE REDUCE MCS   PCA to REDUCE, then fast_hdbscan (as cluster_job.py calls it)
  python hdbscan_plain.py sklearn FILE REDUCE MCS   the same PCA, then scikit-learn's HDBSCAN (the alternative)

Prints one JSON line: seconds (the whole process, imports included, as the step's time includes them),
hdbscan_seconds (the clustering call alone), peak_rss_bytes, clusters, noise.
"""

import json
import resource
import sys
import time

STARTED = time.perf_counter()

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402


def make(path: str, n: int, dim: int) -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(50, dim)) * 4
    vectors = (centres[rng.integers(0, 50, n)] + rng.normal(size=(n, dim))).astype(np.float32)
    flat = pa.array(vectors.reshape(-1), type=pa.float32())
    column = pa.FixedSizeListArray.from_arrays(flat, type=pa.list_(pa.field("item", pa.float32(), nullable=False), dim))
    table = pa.table({"id": pa.array([f"v{i}" for i in range(n)]), "vector": column})
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def cluster(library: str, path: str, reduce_to: int, min_cluster_size: int) -> dict:
    from sklearn.decomposition import PCA

    with pa.memory_map(path) as source:
        table = pa.ipc.open_file(source).read_all()
    column = table.column("vector").combine_chunks()
    vectors = column.flatten().to_numpy().reshape(len(column), column.type.list_size)
    fit = vectors
    if len(vectors) > 50_000:  # as cluster_job.py PCA_FIT_ROWS
        fit = vectors[np.sort(np.random.default_rng(0).choice(len(vectors), 50_000, replace=False))]
    reduced = PCA(n_components=reduce_to, svd_solver="covariance_eigh").fit(fit).transform(vectors).astype(np.float32)
    started = time.perf_counter()
    if library == "fast":
        from fast_hdbscan import fast_hdbscan

        labels = fast_hdbscan(
            reduced,
            min_cluster_size=min_cluster_size,
            min_samples=min_cluster_size,
            return_trees=True,
            reproducible=True,
        )[0]
    else:
        from sklearn.cluster import HDBSCAN

        labels = (
            HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_cluster_size, copy=True).fit(reduced).labels_
        )
    return {
        "seconds": round(time.perf_counter() - STARTED, 3),
        "hdbscan_seconds": round(time.perf_counter() - started, 3),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "clusters": int(labels.max()) + 1,
        "noise": int((labels < 0).sum()),
    }


if __name__ == "__main__":
    command, path, *rest = sys.argv[1:]
    if command == "make":
        make(path, int(rest[0]), int(rest[1]))
    else:
        print(json.dumps(cluster(command, path, int(rest[0]), int(rest[1]))))
