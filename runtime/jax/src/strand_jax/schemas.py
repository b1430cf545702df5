"""Owns checking a value against the package's JSON Schemas (jax_job, worker_contract, preflight), the one
definition the TypeScript side checks against too. All three live in one `referencing.Registry` under their
`$id`s, so a `$ref` from one file into another (the JobSpec's `job`, the pre-flight's train-step options)
resolves as it does for the engine.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any, TypeVar

import jsonschema
from referencing import Registry, Resource

SCHEMA_FILES = ("jax_job.schema.json", "worker_contract.schema.json", "preflight.schema.json")

E = TypeVar("E", bound=Exception)


@cache
def package_schema(name: str) -> dict[str, Any]:
    """A schema file of this package, parsed."""
    if name not in SCHEMA_FILES:
        raise ValueError(f"unknown schema {name} (known: {', '.join(SCHEMA_FILES)})")
    value: dict[str, Any] = json.loads(files("strand_jax").joinpath(name).read_text())
    return value


@cache
def _registry() -> Registry:
    resources = [(package_schema(name)["$id"], Resource.from_contents(package_schema(name))) for name in SCHEMA_FILES]
    return Registry().with_resources(resources)


@cache
def _validator(schema: str, kind: str) -> jsonschema.Draft202012Validator:
    root = package_schema(schema)["$id"]
    return jsonschema.Draft202012Validator({"$ref": f"{root}#/$defs/{kind}"}, registry=_registry())


def check_against(schema: str, kind: str, value: Any, error: type[E]) -> Any:
    """Returns the value if it is a valid `kind` (a `$defs` entry) of `schema` (one of SCHEMA_FILES); else
    raises `error` naming the first problem's path (`EmbedJob at placement/mesh/data: 0 is less than ...`)."""
    if kind not in package_schema(schema)["$defs"]:
        raise ValueError(f"{schema} defines no {kind}")
    found = _most_telling(list(_validator(schema, kind).iter_errors(value)))
    if found is not None:
        where = "/".join(str(p) for p in found.absolute_path) or "(root)"
        raise error(f"{kind} at {where}: {found.message}")
    return value


def _most_telling(errors: list[jsonschema.ValidationError]) -> jsonschema.ValidationError | None:
    """The shallowest problem; for a tagged union (JaxJob, LocalRun: a oneOf whose branches differ by a
    `kind` const) the problem inside the branch the value's kind names, not "valid under none of them"."""
    if not errors:
        return None
    first = min(errors, key=lambda e: [str(p) for p in e.absolute_path])
    if first.validator != "oneOf" or not first.context:
        return first
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for cause in first.context:
        branches.setdefault(cause.relative_schema_path[0], []).append(cause)
    tagged = [causes for causes in branches.values() if not any(c.validator == "const" for c in causes)]
    return _most_telling(tagged[0]) if len(tagged) == 1 else first
