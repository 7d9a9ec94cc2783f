"""Build hook: the wheel carries the npm front-end files and compiled message catalogues.

pyproject.toml holds the project's metadata; this file only adds what a static configuration cannot:

* the front-end libraries (htmx, Leaflet, Leaflet.markercluster, ECharts) are installed by ``npm ci`` into
  node_modules and never committed. The app serves them from ``liftwatch/web/static/vendor``. Building a
  wheel copies them there inside the build; ``make setup`` runs ``python setup.py vendor`` to copy them
  into the source tree for development (that folder is in .gitignore), so a checkout, the tests and an
  installed wheel use the same path.
* ``src/liftwatch/locale/**/*.po`` are compiled to ``.mo`` with Babel inside the build.
* the fault detector (``liftwatch/telemetry/detector.py``) is compiled by Cython into an extension module
  beside its source (docs/PERFORMANCE.md, "A compiled detector"); the same file runs as plain Python where
  no C compiler is at hand (the build warns and goes on).

Building fails with a clear message when node_modules lacks a file, rather than shipping pages without
their scripts.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from setuptools import Extension, setup  # type: ignore[import-untyped]
from setuptools.command.build_py import build_py  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
PACKAGE_DIR = HERE / "src" / "liftwatch"
VENDOR = Path("web", "static", "vendor")
LOCALE = Path("locale")

# Every npm file a page needs (the templates' <script src> and <link href>, Leaflet's images from its
# CSS and script) and the licences: path under static/vendor -> path under node_modules.
VENDOR_FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "htmx.LICENSE": "htmx.org/LICENSE",
    "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    "leaflet/images/layers.png": "leaflet/dist/images/layers.png",
    "leaflet/images/layers-2x.png": "leaflet/dist/images/layers-2x.png",
    "leaflet/images/marker-icon.png": "leaflet/dist/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png": "leaflet/dist/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png": "leaflet/dist/images/marker-shadow.png",
    "leaflet/LICENSE": "leaflet/LICENSE",
    "markercluster/leaflet.markercluster.js": "leaflet.markercluster/dist/leaflet.markercluster.js",
    "markercluster/MarkerCluster.css": "leaflet.markercluster/dist/MarkerCluster.css",
    "markercluster/MarkerCluster.Default.css": "leaflet.markercluster/dist/MarkerCluster.Default.css",
    "markercluster/LICENSE": "leaflet.markercluster/MIT-LICENCE.txt",
    "echarts/echarts.common.min.js": "echarts/dist/echarts.common.min.js",
    "echarts/LICENSE": "echarts/LICENSE",
}


def copy_vendor(package_root: Path) -> None:
    """Copy the npm files into ``package_root``/web/static/vendor, replacing what was there."""
    missing = [name for name in VENDOR_FILES.values() if not (NODE_MODULES / name).is_file()]
    if missing:
        raise SystemExit(
            f"liftwatch build: {len(missing)} front-end file(s) missing from {NODE_MODULES} "
            f"(first: {missing[0]}); run `npm ci` (or `make setup`) before building"
        )
    target = package_root / VENDOR
    shutil.rmtree(target, ignore_errors=True)
    for dest, source in VENDOR_FILES.items():
        (target / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NODE_MODULES / source, target / dest)


def compile_catalogues(source_root: Path, package_root: Path) -> None:
    """Compile every locale/**/*.po under ``source_root`` to the .mo beside it under ``package_root``."""
    locale_dir = source_root / LOCALE
    if not locale_dir.is_dir():
        return
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in sorted(locale_dir.rglob("*.po")):
        with po.open("rb") as f:
            catalog = read_po(f)
        mo = package_root / po.relative_to(source_root).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with mo.open("wb") as f:
            write_mo(f, catalog)


class BuildPy(build_py):  # type: ignore[misc]
    """setuptools' build_py, then the vendored front-end files and the catalogues into the build."""

    def run(self) -> None:
        if self.editable_mode:
            # An editable install runs from src/: `make setup` fills src/.../static/vendor itself.
            super().run()
            return
        package_root = Path(self.build_lib) / "liftwatch"
        # build/lib outlives a build: clear it so a file deleted from src/ cannot ship in the next wheel.
        shutil.rmtree(package_root, ignore_errors=True)
        super().run()
        copy_vendor(package_root)
        compile_catalogues(PACKAGE_DIR, package_root)


def compiled_modules() -> list[Extension]:
    """The modules Cython compiles: the detector's hot path (Cython's pure Python mode, one source)."""
    try:
        from Cython.Build import cythonize
    except ImportError:  # an sdist built without Cython at hand: the detector runs as plain Python
        return []
    detector = Extension(
        "liftwatch.telemetry.detector",
        ["src/liftwatch/telemetry/detector.py"],
        optional=True,  # (compiled with Python's own flags: -O3)
    )
    modules: list[Extension] = cythonize([detector], compiler_directives={"language_level": "3"}, quiet=True)
    return modules


if __name__ == "__main__" and sys.argv[1:] == ["vendor"]:
    # `make setup`: the same files into the source tree, for a checkout (editable install) and the tests.
    copy_vendor(PACKAGE_DIR)
else:
    setup(cmdclass={"build_py": BuildPy}, ext_modules=compiled_modules())
