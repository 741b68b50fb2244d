"""WSGI entry point for any server: ``gunicorn 'api.wsgi:app'`` (settings from ``TRAJET_*``)."""
from api.app import create_app

app = create_app()
