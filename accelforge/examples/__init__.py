"""Example specs shipped with the package: ``af.examples.arches.simple`` is a path to a YAML file.

Attribute access lists what exists when a name misses, so ``dir(af.examples.arches)`` and a
typo both tell you which examples there are. A file whose name has dots is reached with
underscores (``gpt3_6.7B.yaml`` as ``workloads.gpt3_6_7B``, as AccelForge names them).

:func:`add_folder` adds a folder laid out like this one (``arches/``, ``workloads/``,
``mappings/``), e.g. a clone of AccelForge's ``examples`` folder: its files are found after the
shipped ones, so AccelForge's tutorials that name ``af.examples.arches.snowcat`` run unchanged.
"""

from __future__ import annotations

from pathlib import Path

from accelforge.errors import did_you_mean

__all__ = ["ExampleFolder", "add_folder", "arches", "mappings", "root", "workloads"]

root = Path(__file__).resolve().parent
_roots: list[Path] = [root]


class ExampleFolder:
    """A kind of example (``arches``, ...) whose attributes are the YAML files' paths."""

    def __init__(self, kind: str) -> None:
        self._kind = kind

    def _files(self) -> dict[str, Path]:
        """Attribute name -> path; the shipped files first, then added folders', in order."""
        files: dict[str, Path] = {}
        for base in _roots:
            for path in sorted((base / self._kind).glob("*.yaml")):
                files.setdefault(path.stem.replace(".", "_"), path)
        return files

    def names(self) -> list[str]:
        """Example names (file names without ``.yaml``, dots as underscores), sorted."""
        return sorted(self._files())

    def __getattr__(self, name: str) -> Path:
        if name.startswith("_"):
            raise AttributeError(name)
        path = self._files().get(name)
        if path is None:
            raise AttributeError(
                f"no example '{name}' in {self._kind}.{did_you_mean(name, self.names())} "
                f"Available: {', '.join(self.names())}."
            )
        return path

    def __dir__(self) -> list[str]:
        return self.names()

    def __repr__(self) -> str:
        return f"<examples.{self._kind}: {', '.join(self.names())}>"


def add_folder(folder: str | Path) -> None:
    """Look for examples in ``folder`` too (its ``arches/``, ``workloads/``, ``mappings/``).

    Raises
    ------
    FileNotFoundError
        When ``folder`` has none of those sub-folders.
    """
    path = Path(folder).expanduser().absolute()
    if not any((path / kind).is_dir() for kind in ("arches", "workloads", "mappings")):
        raise FileNotFoundError(
            f"{path} has no arches/, workloads/ or mappings/ folder: point add_folder at the "
            "folder that holds them (AccelForge's 'examples' folder)."
        )
    if path not in _roots:
        _roots.append(path)


arches = ExampleFolder("arches")
workloads = ExampleFolder("workloads")
mappings = ExampleFolder("mappings")
