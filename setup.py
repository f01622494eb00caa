"""Package layout: the top-level folders ``derivations/`` and ``validation/`` install under the
package's namespace as ``statmech_attn.derivations`` and ``statmech_attn.validation`` (nothing generic
lands in site-packages). Metadata lives in pyproject.toml; this file only lists the packages."""

from setuptools import find_packages, setup

PACKAGE_DIR = {
    "statmech_attn": "statmech_attn",
    "statmech_attn.derivations": "derivations",
    "statmech_attn.validation": "validation",
}


def _packages() -> list[str]:
    pkgs = find_packages(include=["statmech_attn", "statmech_attn.*"])
    for name, folder in PACKAGE_DIR.items():
        if folder != name:
            pkgs += [name] + [f"{name}.{p}" for p in find_packages(where=folder)]
    return sorted(set(pkgs))


setup(packages=_packages(), package_dir=PACKAGE_DIR)
