"""Say in the new project's README how to install kedro-mlops when it did not come from an index.

`pip install -r requirements.txt` finds kedro-mlops on a package index only; a kedro-mlops
installed from a wheel file, a source folder or a git URL must be installed from there first.
"""

from importlib import metadata
from pathlib import Path

from kedro_mlops.installed import local_source

INSTALL = "pip install -r requirements.txt"


def main() -> None:
    try:
        source = local_source(metadata.distribution("kedro-mlops"))
    except metadata.PackageNotFoundError:
        return
    if not source:
        return
    readme = Path("README.md")
    text = readme.read_text(encoding="utf-8")
    first = (
        f'pip install "{source}"   # kedro-mlops, from where it was installed when this project '
        "was made"
    )
    readme.write_text(text.replace(f"\n{INSTALL}\n", f"\n{first}\n{INSTALL}\n", 1), "utf-8")


main()
