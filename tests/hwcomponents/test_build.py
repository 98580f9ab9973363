"""Building the CACTI / NeuroSim binaries from bundled sources (accelforge/hwcomponents_build.py).

The first tests use a stand-in package (a tiny C++ program with a makefile and a "bundled"
binary that fails the way a glibc-2.38 build fails on Debian 12), so they run on any Python;
the ones that compile need g++ and make and skip without them. The last ones use the real
hwcomponents-cacti and hwcomponents-neurosim packages (Python >= 3.12, the hwcomponents extra).
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from accelforge import cli, cli_hwcomponents
from accelforge import hwcomponents_build as hb
from accelforge.hwcomponents_build import TOOLS, BuildError, Tool, binary_runs, build, check

needs_compiler = pytest.mark.skipif(
    shutil.which("g++") is None or shutil.which("make") is None,
    reason="needs g++ and make (apt-get install g++ make)",
)

BROKEN = """#!/bin/sh
echo "$0: /lib/x86_64-linux-gnu/libc.so.6: version \\`GLIBC_2.99' not found (required by $0)" >&2
exit 1
"""
HELLO_CC = """#include <cstdio>
int main() { std::puts("usage: hello <file>"); return 1; }
"""
MAKEFILE = "hello: hello.cc\n\tg++ -O0 hello.cc -o hello\n"
RUNNER = """import os
BINARY = os.path.join(os.path.dirname(__file__), "bin", "hello")


def _clean_tmp_dir():
    folder = os.path.join(os.path.dirname(__file__), "hello_io")
    os.makedirs(folder, exist_ok=True)
    return folder
"""


def _tool(package: str) -> Tool:
    return Tool(
        name="Hello",
        package=package,
        distribution=package,
        binary="bin/hello",
        sources=("src",),
        probe_marker="usage: hello",
        module=f"{package}.runner",
        attribute="BINARY",
        io_folder="hello_io",
    )


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Tool, Path]:
    """A package ``fakehwc_<n>`` on sys.path with sources, a makefile and a broken binary."""
    package = f"fakehwc_{abs(hash(tmp_path)) % 10**8}"
    root = tmp_path / "site" / package
    (root / "src").mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "__init__.py").write_text("")
    (root / "runner.py").write_text(RUNNER)
    (root / "src" / "hello.cc").write_text(HELLO_CC)
    (root / "src" / "makefile").write_text(MAKEFILE)
    (root / "src" / "data.txt").write_text("a data file the binary reads next to itself\n")
    broken = root / "bin" / "hello"
    broken.write_text(BROKEN)
    broken.chmod(0o755)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setenv("ACCELFORGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(hb, "_READY", {})
    return _tool(package), root


def test_probe_names_the_missing_c_library_versions(fake: tuple[Tool, Path]) -> None:
    tool, root = fake
    status = check(tool)
    assert status.package_dir == root.resolve()
    assert status.bundled_runs is False
    assert "GLIBC_2.99" in status.problem
    assert status.usable is None


def test_probe_of_a_missing_or_non_executable_file(tmp_path: Path) -> None:
    runs, why = binary_runs(tmp_path / "nothing", "x")
    assert not runs and "does not exist" in why
    plain = tmp_path / "plain"
    plain.write_text("not a program")
    runs, why = binary_runs(plain, "x")
    assert not runs and "cannot be started" in why


def test_uninstalled_package_is_reported_not_built() -> None:
    tool = _tool("no_such_package_here")
    assert check(tool).package_dir is None
    with pytest.raises(BuildError, match="is not installed"):
        build(tool)


def test_missing_compiler_says_what_to_install(
    fake: tuple[Tool, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool, _ = fake
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(BuildError) as info:
        build(tool)
    msg = str(info.value)
    assert "apt-get install g++ make" in msg
    assert "g++ and make are not installed" in msg
    assert "GLIBC_2.99" in msg
    assert "accelforge hwcomponents build" in msg


@needs_compiler
def test_build_into_the_writable_package(fake: tuple[Tool, Path]) -> None:
    tool, root = fake
    said: list[str] = []
    binary = build(tool, announce=said.append)
    assert binary == root.resolve() / "bin" / "hello"
    assert binary_runs(binary, tool.probe_marker) == (True, "")
    assert len(said) == 1 and "GLIBC_2.99" in said[0] and "building it" in said[0]
    assert [p.name for p in root.iterdir() if p.name.startswith(".bin-build")] == []
    # A binary that runs is kept; force rebuilds it.
    assert build(tool, announce=said.append) == binary and len(said) == 1
    build(tool, force=True, announce=said.append)
    assert len(said) == 2 and binary_runs(binary, tool.probe_marker)[0]
    assert check(tool).usable == binary


@needs_compiler
def test_read_only_package_builds_into_the_cache_and_is_pointed_to_it(
    fake: tuple[Tool, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool, root = fake
    monkeypatch.setattr(hb, "_writable", lambda *_: False)  # root ignores permission bits
    said: list[str] = []
    found = hb.ensure_binaries([tool], announce=said.append)
    binary = found["Hello"]
    assert binary.is_relative_to(tmp_path / "cache" / "hwcomponents")
    assert binary.parent.name == "bin" and (binary.parent / "data.txt").is_file()
    assert len(said) == 1 and str(binary.parent) in said[0]
    runner: Any = importlib.import_module(f"{tool.package}.runner")
    assert runner.BINARY == str(binary)
    io_dir = Path(runner._clean_tmp_dir())
    assert io_dir.parent == binary.parent.parent and io_dir.name == "hello_io"
    assert not (root / "hello_io").exists()
    # Remembered in this process; a new process finds the cached build without rebuilding.
    assert hb.ensure_binaries([tool], announce=said.append) == found and len(said) == 1
    status = check(tool)
    assert status.bundled_runs is False and status.cached == binary and status.usable == binary
    sys.modules.pop(f"{tool.package}.runner", None)


@needs_compiler
def test_make_failure_ends_with_the_compiler_output(fake: tuple[Tool, Path]) -> None:
    tool, root = fake
    (root / "src" / "hello.cc").write_text("int main( { oops }\n")
    with pytest.raises(BuildError) as info:
        build(tool)
    msg = str(info.value)
    assert "'make' failed" in msg and "hello.cc" in msg and "error" in msg


@needs_compiler
def test_cli_status_then_build(
    fake: tuple[Tool, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tool, root = fake
    monkeypatch.setattr(cli_hwcomponents, "TOOLS", (tool,))
    assert cli.main(["hwcomponents", "status"]) == 1
    out = capsys.readouterr().out
    assert "does not run" in out and "GLIBC_2.99" in out and "accelforge hwcomponents build" in out
    assert cli.main(["hwcomponents", "build", "-j", "1"]) == 0
    out = capsys.readouterr().out
    assert "building it from the package's bundled sources" in out
    assert f"Hello: {root.resolve() / 'bin' / 'hello'} runs" in out
    assert cli.main(["hwcomponents", "status"]) == 0
    assert "runs" in capsys.readouterr().out


def test_cli_rejects_an_unknown_tool(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["hwcomponents", "build", "cactus"]) == 2
    assert "unknown tool cactus; choose from CACTI, NeuroSim" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# The real packages


@pytest.fixture
def real_packages() -> None:
    reason = (
        "needs hwcomponents-cacti and hwcomponents-neurosim (Python >= 3.12, hwcomponents extra)"
    )
    pytest.importorskip("hwcomponents_cacti", reason=reason)
    pytest.importorskip("hwcomponents_neurosim", reason=reason)


def test_real_binaries_run_after_ensure(real_packages: None) -> None:
    found = hb.ensure_binaries()
    assert sorted(found) == ["CACTI", "NeuroSim"]
    for tool in TOOLS:
        assert binary_runs(found[tool.name], tool.probe_marker) == (True, ""), tool.name


def test_real_neurosim_model_runs(real_packages: None) -> None:
    hb.ensure_binaries()
    neurosim: Any = importlib.import_module("hwcomponents_neurosim")
    adder = neurosim.Adder(tech_node=22e-9, n_bits=8, cycle_period=1e-9)
    assert adder.area > 0 and adder.leak_power > 0 and adder.add().energy > 0


@needs_compiler
def test_real_cacti_built_into_the_cache_gives_the_same_costs(
    real_packages: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Build CACTI into a private cache and point hwcomponents_cacti at it (as for a read-only
    # package, so its input/output folder moves too and CACTI really runs); the SRAM costs
    # equal the ones computed with the binary in the package.
    from accelforge.frontend import _hwcomponents as hwc

    monkeypatch.setenv("ACCELFORGE_CACHE_DIR", str(tmp_path / "cache"))
    cacti_tool = TOOLS[0]
    call = (
        "Buf",
        "SRAM",
        {"size": 8 * 12345, "width": 64, "tech_node": 45e-9},
        ["read", "write"],
        {},
    )
    monkeypatch.setattr(hwc, "_CACHE", {})
    in_package = hwc.estimate_costs(*call)
    binary = build(cacti_tool, into_cache=True, jobs=os.cpu_count())
    assert binary.is_relative_to(tmp_path / "cache")
    module: Any = importlib.import_module(cacti_tool.module)
    for name in (cacti_tool.attribute, "_clean_tmp_dir"):
        monkeypatch.setattr(module, name, getattr(module, name))  # restored after the test
    monkeypatch.setattr(hb, "_writable", lambda *_: False)
    hb._point_package_to(cacti_tool, Path(module.__file__).parent, binary)
    assert module._get_cacti_dir(None) == str(binary.parent)
    monkeypatch.setattr(hwc, "_CACHE", {})
    from_cache = hwc.estimate_costs(*call)
    io_dir = tmp_path / "cache" / "hwcomponents"
    assert list(io_dir.glob("*/cacti_inputs_outputs/*.out")), "CACTI did not run from the cache"
    assert from_cache == in_package
