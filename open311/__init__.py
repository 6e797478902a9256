"""Open311 GeoReport v2: the service catalogue and the case store in the standard API shape."""
