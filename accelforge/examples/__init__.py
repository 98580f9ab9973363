"""Example specs shipped with the package: ``af.examples.arches.simple`` is a path to a YAML file.

Attribute access lists what exists when a name misses, so ``dir(af.examples.arches)`` and a
typo both tell you which examples there are.
"""

from __future__ import annotations

from pathlib import Path

from accelforge.errors import did_you_mean

__all__ = ["ExampleFolder", "arches", "mappings", "root", "workloads"]

root = Path(__file__).resolve().parent


class ExampleFolder:
    """A folder of example YAML files whose attributes are the files' paths."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def names(self) -> list[str]:
        """Example names (file names without ``.yaml``), sorted."""
        return sorted(p.stem for p in self._folder.glob("*.yaml"))

    def __getattr__(self, name: str) -> Path:
        if name.startswith("_"):
            raise AttributeError(name)
        path = self._folder / f"{name}.yaml"
        if not path.is_file():
            raise AttributeError(
                f"no example '{name}' in {self._folder.name}.{did_you_mean(name, self.names())} "
                f"Available: {', '.join(self.names())}."
            )
        return path

    def __dir__(self) -> list[str]:
        return self.names()

    def __repr__(self) -> str:
        return f"<examples.{self._folder.name}: {', '.join(self.names())}>"


arches = ExampleFolder(root / "arches")
workloads = ExampleFolder(root / "workloads")
mappings = ExampleFolder(root / "mappings")
