"""``python -m api.cli ...``: the same as the ``trajet`` console script."""
from api.cli import main

main()
