"""/media/<token>.jpg and /media/<token>-thumb.jpg: approved photos, for anyone.

A photo is served only once staff approved it and it is processed (with any blurred regions
applied); anything else is a 404, the same as a token that does not exist, so the public can
tell nothing apart. Tokens are 128 random bits, so photos cannot be enumerated. Staff see every
photo through the console instead (console/photos.py).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app

from cases.public_photos import public_file

bp = Blueprint("media", __name__)
CACHE_SECONDS = 300  # a photo hidden again disappears from caches within this


@bp.get("/media/<name>")
def public_photo(name: str) -> Response:
    """An approved photo or its thumbnail."""
    with current_app.extensions["civicline"].Session() as db_session:
        found = public_file(db_session, name)
    if found is None:
        abort(404)
    response = Response(found.data, mimetype=found.content_type)
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response
