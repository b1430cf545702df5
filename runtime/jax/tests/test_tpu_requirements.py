"""requirements-tpu.txt, what a TPU VM's startup script installs with --require-hashes, is uv.lock's runtime
closure with the tpu extra: the same packages, versions and hashes (regenerate it with the command in its
first lines after `uv lock`)."""

import re
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def lock_closure(lock: dict) -> dict[str, dict]:
    packages = {p["name"]: p for p in lock["package"]}
    todo = [(d["name"], tuple(d.get("extra", ()))) for d in packages["strand-jax"]["dependencies"]]
    todo += [(d["name"], tuple(d.get("extra", ()))) for d in packages["strand-jax"]["optional-dependencies"]["tpu"]]
    seen: dict[str, dict] = {}
    while todo:
        name, extras = todo.pop()
        package = packages[name]
        if name not in seen:
            seen[name] = package
            todo += [(d["name"], tuple(d.get("extra", ()))) for d in package.get("dependencies", [])]
        for extra in extras:
            todo += [
                (d["name"], tuple(d.get("extra", ()))) for d in package.get("optional-dependencies", {}).get(extra, [])
            ]
    return seen


def test_the_tpu_requirements_are_the_locked_runtime_with_its_hashes():
    closure = lock_closure(tomllib.loads((HERE / "uv.lock").read_text()))
    text = (HERE / "requirements-tpu.txt").read_text()
    pinned = dict(re.findall(r"^([a-z0-9_.-]+)==(\S+)", text, re.MULTILINE))
    assert pinned == {name: p["version"] for name, p in closure.items()}
    assert "libtpu" in pinned and pinned["jax"] == "0.10.2"
    for block in re.split(r"\n(?=[a-z])", text.split("\n", 2)[2]):
        name = block.split("==")[0]
        hashes = set(re.findall(r"--hash=(sha256:[0-9a-f]{64})", block))
        locked = {w["hash"] for w in closure[name].get("wheels", [])} | {closure[name].get("sdist", {}).get("hash")}
        assert hashes and hashes <= locked, name
