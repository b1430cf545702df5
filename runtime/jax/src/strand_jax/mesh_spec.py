"""Owns the shape of a (data, fsdp, tp) device mesh as a value, without importing JAX (a job's placement is
parsed before JAX starts: job.py sets JAX_PLATFORMS and XLA_FLAGS from it). Placing a mesh on devices and
the logical-axis rules are sharding.py's.
"""

from __future__ import annotations

from dataclasses import dataclass

MESH_AXES = ("data", "fsdp", "tp")


class MeshError(ValueError):
    """The mesh does not fit the devices or the model."""


@dataclass(frozen=True)
class MeshSpec:
    data: int = 1
    fsdp: int = 1
    tp: int = 1

    @property
    def size(self) -> int:
        return self.data * self.fsdp * self.tp

    @staticmethod
    def parse(text: str) -> MeshSpec:
        """'2,2,2' (data,fsdp,tp) or 'data=2,tp=4' (missing axes are 1)."""
        parts = [p.strip() for p in text.split(",") if p.strip()]
        try:
            if all("=" not in p for p in parts):
                if len(parts) != 3:
                    raise ValueError
                values = dict(zip(MESH_AXES, (int(p) for p in parts), strict=True))
            else:
                values = {k.strip(): int(v) for k, v in (p.split("=", 1) for p in parts)}
        except ValueError:
            raise MeshError(f'mesh "{text}" is not data,fsdp,tp (e.g. 2,2,2) or data=N,fsdp=N,tp=N') from None
        unknown = set(values) - set(MESH_AXES)
        if unknown:
            raise MeshError(f"mesh has unknown axis {sorted(unknown)[0]!r}; axes are data, fsdp, tp")
        if any(v < 1 for v in values.values()):
            raise MeshError(f'mesh "{text}": every axis must be at least 1')
        return MeshSpec(**values)
