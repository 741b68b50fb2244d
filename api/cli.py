"""The ``trajet`` command line."""
from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trajet")
def main() -> None:
    """trajet: build multimodal networks from open data and plan trips on them."""


if __name__ == "__main__":
    main()
