# Copyright streamml authors. Licensed under the Apache License 2.0.
"""pip install . builds the Python module streamml with CMake (the target
_streamml, in build-pip/ of this checkout, ccache shared with build/) and
installs python/streamml with it. No network: Debian's python3-setuptools,
python3-wheel, pybind11-dev and python3-dev (scripts/deps.sh). See
docs/python.md:

    python3 -m venv --system-site-packages /tmp/venv
    /tmp/venv/bin/pip install .      # or --no-build-isolation

No pyproject.toml on purpose: with one, pip builds in an isolated
environment and fetches setuptools from PyPI.

STREAMML_PIP_BUILD_DIR overrides the CMake build folder; STREAMML_JOBS the
parallel jobs.
"""
import os
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


def version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        return re.search(r"project\(streamml VERSION ([0-9.]+)", f.read()).group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = os.environ.get("STREAMML_PIP_BUILD_DIR", os.path.join(ROOT, "build-pip"))
        jobs = os.environ.get("STREAMML_JOBS", str(os.cpu_count() or 2))
        if not os.path.exists(os.path.join(build_dir, "build.ninja")):
            subprocess.check_call([
                "cmake", "-S", ROOT, "-B", build_dir, "-G", "Ninja",
                "-DCMAKE_BUILD_TYPE=" + os.environ.get("STREAMML_BUILD_TYPE", "RelWithDebInfo"),
                "-DSTREAMML_BUILD_TESTS=OFF", "-DSTREAMML_BUILD_BENCH=OFF", "-DSTREAMML_BUILD_PYTHON=ON",
                "-DPython3_EXECUTABLE=" + sys.executable])
        subprocess.check_call(["cmake", "--build", build_dir, "-j", jobs, "--target", "_streamml"])
        built = [f for f in os.listdir(os.path.join(build_dir, "python", "streamml")) if f.startswith("_streamml.")]
        if not built:
            raise RuntimeError("the CMake build made no _streamml extension in " + build_dir)
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(build_dir, "python", "streamml", built[0]), target)


setup(
    name="streamml",
    version=version(),
    description="Kafka records as NumPy/PyTorch batches, predictions back to Kafka (streamml's C++ core)",
    license="Apache-2.0",
    package_dir={"": "python"},
    packages=["streamml"],
    ext_modules=[Extension("streamml._streamml", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.9",
    zip_safe=False,
)
