"""numba's cache of kernels that call kernels of other modules is dropped when those change."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

from numba.core.registry import CPUDispatcher

import analysis.clustering
from analysis.clustering.kernel_cache import GROUPS, drop_stale_in

CLUSTERING = Path(analysis.clustering.__file__).parent
PROJECT = CLUSTERING.parent.parent


def test_every_module_whose_kernels_reach_another_module_is_in_one_group():
    """A module that holds kernels and names a kernel of another clustering module (it may
    call it, so numba compiles it in) shares a group with that module."""
    group_of = {name: group for group, names in GROUPS.items() for name in names}
    for path in sorted(CLUSTERING.glob("*.py")):
        module = importlib.import_module(f"analysis.clustering.{path.stem}")
        kernels = [v for v in vars(module).values() if isinstance(v, CPUDispatcher)]
        own = {k for k in kernels if k.py_func.__module__ == module.__name__}
        for kernel in kernels:
            source = kernel.py_func.__module__.rsplit(".", 1)[-1]
            if own and source != path.stem and kernel.py_func.__module__.startswith(
                    "analysis.clustering."):
                assert group_of.get(path.stem) is not None, path.stem
                assert group_of.get(path.stem) == group_of.get(source), (path.stem, source)


def test_drop_stale_in_stores_the_sources_digest(tmp_path):
    source = tmp_path / "lo.py"
    source.write_text("x = 1\n")
    (tmp_path / "lo.f-3.py311.nbi").write_bytes(b"index")
    (tmp_path / "lo.f-3.py311.1.nbc").write_bytes(b"code")
    assert drop_stale_in(tmp_path, "t", [source])  # no digest yet: indexes dropped
    assert not (tmp_path / "lo.f-3.py311.nbi").exists()
    assert (tmp_path / "lo.f-3.py311.1.nbc").exists()  # numba overwrites data files itself
    (tmp_path / "lo.f-3.py311.nbi").write_bytes(b"index")
    assert not drop_stale_in(tmp_path, "t", [source])  # unchanged: kept
    source.write_text("x = 2\n")
    assert drop_stale_in(tmp_path, "t", [source])


CALLEE = "from numba import njit\n\n\n@njit(cache=True)\ndef f():\n    return {}\n"
CALLER = ("from numba import njit\n\nfrom lo import f\n\n\n@njit(cache=True)\ndef g():\n"
          "    return f()\n")
RUN = """import sys
from pathlib import Path
import hi
if sys.argv[1] == "guard":
    from analysis.clustering.kernel_cache import drop_stale_in
    drop_stale_in(Path(hi.g._cache.cache_path), "t", [Path("lo.py"), Path("hi.py")])
print(hi.g())
"""


def test_a_changed_callee_in_another_file_reaches_the_cached_caller(tmp_path):
    """The failure the guard exists for, reproduced with numba itself, and the guard's fix."""
    (tmp_path / "lo.py").write_text(CALLEE.format(1))
    (tmp_path / "hi.py").write_text(CALLER)
    (tmp_path / "run.py").write_text(RUN)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(PROJECT)])}

    def run(mode: str) -> str:
        done = subprocess.run([sys.executable, "run.py", mode], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=True)
        return done.stdout.strip()

    assert run("guard") == "1"
    (tmp_path / "lo.py").write_text(CALLEE.format(22))
    assert run("plain") == "1", "numba now sees changes in other files: is the guard needed?"
    assert run("guard") == "22"
    assert run("plain") == "22"
