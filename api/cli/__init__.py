"""The ``trajet`` command line: build bundles, inspect them, route, plan, run matrices and
scenarios on them, and serve them.

One module per command group: :mod:`api.cli.build` (build, info), :mod:`api.cli.plan` (plan,
route), :mod:`api.cli.matrix`, :mod:`api.cli.scenario` (check, run), :mod:`api.cli.serve`;
:mod:`api.cli.options` holds the options they share, whose defaults come from
:class:`engine.planning.options.PlanOptions`. The console script is ``trajet = "api.cli:main"``.
"""
from __future__ import annotations

import click

from api.cli.build import build, info
from api.cli.matrix import matrix
from api.cli.plan import plan, route
from api.cli.scenario import scenario
from api.cli.serve import serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trajet")
def main() -> None:
    """trajet: build multimodal networks from open data and plan trips on them."""


for _command in (build, info, route, serve, plan, matrix, scenario):
    main.add_command(_command)

__all__ = ["main"]
