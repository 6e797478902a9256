"""/c/<number>-<token>: a case's public page; no sign-in, no script, nothing that leaks the link.

The view only finds the case and renders; what the page says is built in cases/case_page.py
through the one public view of a case (cases/public.py).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request

from cases.case_page import case_page, find_case, not_found_page

bp = Blueprint(
    "public",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/c/static",
)

# Stricter than the site's policy: no script at all, the stylesheet and images from here only,
# no forms, never framed.
PAGE_CSP = "; ".join(
    [
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    # the address is the key to the page: kept out of caches, search engines and Referer headers
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow, noarchive",
    "Referrer-Policy": "no-referrer",
}


def _runtime():  # type: ignore[no-untyped-def]
    return current_app.extensions["civicline"]


@bp.get("/c/<ref>")
def case(ref: str) -> tuple[str, int]:
    """A case's page, or the same not-found page for an unknown number or a wrong token."""
    rt = _runtime()
    wording = rt.bot.wording
    language = request.args.get("lang", "")
    with rt.Session() as db_session:
        found = find_case(db_session, ref)
        if found is None:
            page = not_found_page(wording, language)
            return render_template("public/not_found.html", page=page), 404
        page = case_page(
            db_session=db_session,
            case=found,
            wording=wording,
            policy=rt.catalog.policy,
            language=language,
        )
    return render_template("public/case.html", page=page), 200


@bp.after_request
def private_page(response: Response) -> Response:
    """Every public page: no-store, noindex, no referrer, no script (the stylesheet is static)."""
    if request.endpoint != "public.static":
        for name, value in PAGE_HEADERS.items():
            response.headers[name] = value
    return response
