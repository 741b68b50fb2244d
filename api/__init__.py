"""trajet entry points: the Flask API, the demo page, the trajet CLI and batch runners."""
