"""Make the CACTI and NeuroSim binaries of the ``hwcomponents`` extra run on this machine.

``hwcomponents-cacti`` and ``hwcomponents-neurosim`` ship prebuilt Linux binaries
(``hwcomponents_cacti/cacti/cacti``, ``hwcomponents_neurosim/NeuroSim/main``) linked against
glibc 2.38, so they fail on older systems such as Debian 12 ("GLIBC_2.38 not found"). Both
packages also bundle the C++ sources and makefiles of those binaries. This module

* checks whether a binary runs (it is started with no arguments and must print its usage text);
* builds it from the bundled sources with ``make`` when it does not: into the package itself
  when the package folder is writable, else into a per-user cache folder
  (``$ACCELFORGE_CACHE_DIR``, else ``$XDG_CACHE_HOME/accelforge``, else ``~/.cache/accelforge``)
  that :func:`ensure_binaries` then points the package to;
* backs ``accelforge hwcomponents status`` and ``build`` (``accelforge/cli_hwcomponents.py``).

The cost-model adapter (``accelforge/frontend/_hwcomponents.py``) calls :func:`ensure_binaries`
before its first cost-model call, so a fresh install works without a manual step. The build
uses the packages' own recipes: CACTI's ``makefile`` default target in a copy of the ``cacti``
folder; NeuroSim's ``makefile`` in a copy of ``DNN_NeuroSim_V1.3/Inference_pytorch/NeuroSIM``
with the package's ``drop_in`` files copied over it.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from accelforge.errors import AccelForgeError

__all__ = [
    "INSTALL_COMPILER",
    "TOOLS",
    "BinaryStatus",
    "BuildError",
    "Tool",
    "binary_runs",
    "build",
    "cache_root",
    "check",
    "ensure_binaries",
]

INSTALL_COMPILER = "apt-get install g++ make"
_PROBE_TIMEOUT_S = 30.0
_LOG_TAIL_LINES = 15


class BuildError(AccelForgeError):
    """A cost-model binary cannot run here and could not be built from its bundled sources."""


@dataclass(frozen=True)
class Tool:
    """One binary of an ``hwcomponents`` model package and how to build it.

    Parameters
    ----------
    name
        What users call it (``"CACTI"``).
    package
        Import name of the package that ships it (``"hwcomponents_cacti"``).
    distribution
        Its name on PyPI (``"hwcomponents-cacti"``).
    binary
        Path of the binary inside the package, ``/``-separated (``"cacti/cacti"``). The binary's
        folder is also the build folder: the copied sources and data files live there.
    sources
        Package folders copied, in order, into the build folder; later ones overwrite files of
        earlier ones (NeuroSim's ``drop_in``).
    probe_marker
        Text the binary prints when started with no arguments; seeing it proves it runs.
    module, attribute
        Where the package names its binary: a module-level function returning the binary's
        folder (CACTI's ``_get_cacti_dir``) or a string holding its path (NeuroSim's
        ``NEUROSIM_PATH``); set to a cache build by :func:`ensure_binaries`.
    io_folder
        The folder that the module's ``_clean_tmp_dir`` creates in the package for model inputs
        and outputs; it moves to the cache too when the package is read-only.
    """

    name: str
    package: str
    distribution: str
    binary: str
    sources: tuple[str, ...]
    probe_marker: str
    module: str
    attribute: str
    io_folder: str

    @property
    def build_dir_name(self) -> str:
        """Name of the folder that holds the binary (and, in a cache build, its sources)."""
        return self.binary.rpartition("/")[0]

    @property
    def binary_name(self) -> str:
        """File name of the binary; ``make`` leaves it at the top of the build folder."""
        return self.binary.rpartition("/")[2]


TOOLS: tuple[Tool, ...] = (
    Tool(
        name="CACTI",
        package="hwcomponents_cacti",
        distribution="hwcomponents-cacti",
        binary="cacti/cacti",
        sources=("cacti",),
        probe_marker="how to use CACTI",
        module="hwcomponents_cacti.hwcomponents_cacti",
        attribute="_get_cacti_dir",
        io_folder="cacti_inputs_outputs",
    ),
    Tool(
        name="NeuroSim",
        package="hwcomponents_neurosim",
        distribution="hwcomponents-neurosim",
        binary="NeuroSim/main",
        sources=("DNN_NeuroSim_V1.3/Inference_pytorch/NeuroSIM", "drop_in"),
        probe_marker="Usage: ./main <config file path>",
        module="hwcomponents_neurosim.neurointerface",
        attribute="NEUROSIM_PATH",
        io_folder="neurosim_inputs_outputs",
    ),
)


@dataclass(frozen=True)
class BinaryStatus:
    """Where a tool's binary is and whether it runs.

    ``package_dir`` is ``None`` when the package is not installed (then nothing else matters).
    ``bundled`` is the binary inside the package and ``problem`` why it does not run (empty when
    it does). ``cached`` is a build in the user cache, if any, and ``cached_runs`` whether it
    runs.
    """

    tool: Tool
    package_dir: Path | None
    version: str
    bundled: Path | None
    bundled_runs: bool
    problem: str
    cached: Path | None
    cached_runs: bool

    @property
    def usable(self) -> Path | None:
        """The binary to use: the package's if it runs, else a cached build that runs."""
        if self.bundled is not None and self.bundled_runs:
            return self.bundled
        if self.cached is not None and self.cached_runs:
            return self.cached
        return None


# --------------------------------------------------------------------------------------------
# Finding and probing


def _package_dir(tool: Tool) -> Path | None:
    """The installed package's folder, found without importing it, or ``None``."""
    try:
        spec = importlib.util.find_spec(tool.package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def _version(tool: Tool) -> str:
    try:
        return importlib.metadata.version(tool.distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def cache_root() -> Path:
    """The per-user folder for binaries built outside a read-only package."""
    explicit = os.environ.get("ACCELFORGE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "accelforge"


def _cache_dir(tool: Tool, version: str) -> Path:
    """The tool's cache folder, keyed by package version, machine and C library."""
    libc, libc_version = platform.libc_ver()
    system = f"{platform.machine() or 'unknown'}-{libc or sys.platform}{libc_version}"
    return cache_root() / "hwcomponents" / f"{tool.package}-{version}-{system}"


def binary_runs(path: Path, marker: str) -> tuple[bool, str]:
    """Start ``path`` with no arguments; ``(True, "")`` if it prints ``marker``.

    Otherwise ``(False, reason)``, the reason being the missing C-library versions the dynamic
    loader names, or the first line the binary printed, or the OS error.
    """
    if not path.is_file():
        return False, f"{path} does not exist"
    try:
        proc = subprocess.run(
            [str(path)],
            cwd=path.parent,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=_PROBE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, f"{path} did not answer within {_PROBE_TIMEOUT_S:.0f} s"
    except OSError as err:
        return False, f"{path} cannot be started: {err.strerror or err}"
    output = proc.stdout + proc.stderr
    if marker in output:
        return True, ""
    missing = sorted(set(re.findall(r"version `([^']+)' not found", output)))
    if missing:
        return False, f"it needs {', '.join(missing)}, newer than this system's C/C++ libraries"
    first = next((ln.strip() for ln in output.splitlines() if ln.strip()), "")
    return False, first[:300] or f"it exited with code {proc.returncode} and printed nothing"


def check(tool: Tool, package_dir: Path | None = None) -> BinaryStatus:
    """Where ``tool``'s binary is and whether it runs (``package_dir`` overrides the lookup)."""
    package_dir = package_dir or _package_dir(tool)
    if package_dir is None:
        return BinaryStatus(tool, None, "", None, False, "not installed", None, False)
    version = _version(tool)
    bundled = package_dir / tool.binary
    runs, problem = binary_runs(bundled, tool.probe_marker)
    cached = _cache_dir(tool, version) / tool.binary
    cached_runs = False
    if not runs and cached.is_file():
        cached_runs = binary_runs(cached, tool.probe_marker)[0]
    return BinaryStatus(
        tool=tool,
        package_dir=package_dir,
        version=version,
        bundled=bundled,
        bundled_runs=runs,
        problem=problem,
        cached=cached if cached.is_file() else None,
        cached_runs=cached_runs,
    )


# --------------------------------------------------------------------------------------------
# Building


def _writable(package_dir: Path, tool: Tool) -> bool:
    """Whether the binary can be replaced in the package and the package can hold its I/O."""
    folder = package_dir / tool.build_dir_name
    return os.access(package_dir, os.W_OK) and os.access(folder, os.W_OK)


def _missing_build_tools() -> list[str]:
    return [prog for prog in ("g++", "make") if shutil.which(prog) is None]


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (processes building at once wait in turn)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, and no prebuilt Linux binary to replace either
        yield
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _copy_sources(tool: Tool, package_dir: Path, into: Path) -> None:
    """Copy the bundled sources into ``into``, leaving out stale objects and binaries."""
    for source in tool.sources:
        src = package_dir / source
        if not src.is_dir():
            raise BuildError(
                f"{tool.name}: the sources {src} that {tool.distribution} should bundle are "
                f"missing; reinstall it (pip install --force-reinstall {tool.distribution})."
            )
        shutil.copytree(
            src,
            into,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns(
                "obj_*", "*.o", ".depend", "*_inputs_outputs", tool.binary_name, "__pycache__"
            ),
        )


def _make(tool: Tool, folder: Path, jobs: int) -> None:
    """Run ``make`` in ``folder``; a failure raises with the end of its log."""
    log = folder / "accelforge-build.log"
    with open(log, "w") as out:
        result = subprocess.run(
            ["make", f"-j{jobs}"], cwd=folder, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    built = folder / tool.binary_name
    if result.returncode == 0 and built.is_file():
        return
    tail = log.read_text(errors="replace").splitlines()[-_LOG_TAIL_LINES:]
    raise BuildError(
        f"{tool.name}: 'make' failed (exit code {result.returncode}) building it from the "
        f"sources bundled with {tool.distribution}; full log: {log}\n" + "\n".join(tail)
    )


def build(
    tool: Tool,
    *,
    package_dir: Path | None = None,
    force: bool = False,
    jobs: int | None = None,
    into_cache: bool | None = None,
    announce: Callable[[str], None] | None = None,
) -> Path:
    """Build ``tool``'s binary from its package's bundled sources; returns the runnable binary.

    Parameters
    ----------
    tool
        What to build (one of :data:`TOOLS`).
    package_dir
        The installed package's folder; found with :mod:`importlib` when omitted.
    force
        Build even if the binary in place already runs.
    jobs
        Parallel compile jobs (default: the number of CPUs).
    into_cache
        Build into the user cache folder instead of the package; default: only when the
        package folder is not writable.
    announce
        Called with a one-line message just before a build starts.

    Raises
    ------
    BuildError
        The package is not installed, ``g++`` or ``make`` is missing (the message says what to
        install), ``make`` failed (the message ends with its log), or the built binary does not
        run either.
    """
    package_dir = package_dir or _package_dir(tool)
    if package_dir is None:
        raise BuildError(
            f"{tool.name}: {tool.distribution} is not installed "
            f'(pip install "accelforge-explorer[hwcomponents]", Python >= 3.12).'
        )
    status = check(tool, package_dir)
    if into_cache is None:
        into_cache = not _writable(package_dir, tool)
    if into_cache:
        dest_root = _cache_dir(tool, status.version)
        target = dest_root / tool.binary
        lock = dest_root.parent / f"{dest_root.name}.lock"
    else:
        dest_root, target = package_dir, package_dir / tool.binary
        lock = package_dir / ".accelforge-build.lock"
    if not force and binary_runs(target, tool.probe_marker)[0]:
        return target
    missing = _missing_build_tools()
    if missing:
        raise BuildError(
            f"{tool.name} (from {tool.distribution}) "
            + (f"cannot run here ({status.problem})" if status.problem else "must be rebuilt")
            + f" and is built from its bundled C++ sources, which needs g++ and make; "
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed. "
            f"Install them (Debian/Ubuntu: {INSTALL_COMPILER}; Fedora: dnf install gcc-c++ "
            "make), then run: accelforge hwcomponents build"
        )
    with _locked(lock):
        if not force and binary_runs(target, tool.probe_marker)[0]:
            return target  # another process built it while this one waited
        if announce is not None:
            reason = f"cannot run here ({status.problem})" if status.problem else "is rebuilt"
            announce(
                f"accelforge: {tool.name} of {tool.distribution} {status.version} {reason}; "
                f"building it from the package's bundled sources into {target.parent} "
                "(once, under a minute)..."
            )
        _build_into(tool, package_dir, dest_root, target, jobs or os.cpu_count() or 1)
    runs, problem = binary_runs(target, tool.probe_marker)
    if not runs:
        raise BuildError(f"{tool.name}: the binary built at {target} does not run: {problem}")
    return target


def _build_into(tool: Tool, package_dir: Path, dest_root: Path, target: Path, jobs: int) -> None:
    """Compile in a scratch folder, then move the result into place atomically."""
    dest_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{tool.build_dir_name}-build-", dir=dest_root))
    try:
        _copy_sources(tool, package_dir, scratch)
        _make(tool, scratch, jobs)
        if dest_root == package_dir:
            staged = target.with_name(f".{target.name}.new")
            shutil.copy2(scratch / tool.binary_name, staged)
            os.replace(staged, target)
        else:
            # A cache build keeps the whole folder: the binary reads data files next to it.
            old = dest_root / f".{tool.build_dir_name}-old"
            shutil.rmtree(old, ignore_errors=True)
            if target.parent.exists():
                os.replace(target.parent, old)
            os.replace(scratch, target.parent)
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Using the binaries


_READY: dict[str, Path] = {}


def ensure_binaries(
    tools: Sequence[Tool] = TOOLS,
    announce: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Make every installed tool's binary runnable and point its package to it.

    For each tool whose package is installed: keep the bundled binary if it runs; else use an
    earlier build in the user cache; else build one (:func:`build`, announcing it through
    ``announce``, by default one line on stderr). A binary outside the package is patched into
    the package's module. Results are remembered for the rest of the process.

    Returns
    -------
    dict
        Tool name to the binary in use, for the installed tools.

    Raises
    ------
    BuildError
        A binary cannot run and cannot be built (e.g. no compiler: the message says what to
        install).
    """
    say = announce if announce is not None else _to_stderr
    found: dict[str, Path] = {}
    for tool in tools:
        if tool.name in _READY:
            found[tool.name] = _READY[tool.name]
            continue
        status = check(tool)
        if status.package_dir is None:
            continue
        binary = status.usable or build(tool, package_dir=status.package_dir, announce=say)
        if binary != status.bundled:
            _point_package_to(tool, status.package_dir, binary)
        _READY[tool.name] = found[tool.name] = binary
    return found


def _to_stderr(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _point_package_to(tool: Tool, package_dir: Path, binary: Path) -> None:
    """Patch the package's module so that it runs ``binary`` (a build outside the package).

    When the package folder is not writable, the folder where it writes its model inputs and
    outputs moves next to the binary too.
    """
    folder = binary.parent
    module = importlib.import_module(tool.module)
    if callable(getattr(module, tool.attribute)):
        setattr(module, tool.attribute, lambda *_args, **_kwargs: str(folder))
    else:
        setattr(module, tool.attribute, str(binary))
    if not _writable(package_dir, tool) and hasattr(module, "_clean_tmp_dir"):
        io_dir = folder.parent / tool.io_folder

        def io_folder() -> str:
            io_dir.mkdir(parents=True, exist_ok=True)
            return str(io_dir)

        setattr(module, "_clean_tmp_dir", io_folder)  # noqa: B010 (a private name, on purpose)
