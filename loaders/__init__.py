"""trajet loaders: read GTFS, OSM, bike lanes and parking data into engine.model, save bundles."""
