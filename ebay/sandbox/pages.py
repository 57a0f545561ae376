"""The consent page's HTML: a plain form, no script, no external assets, every value escaped.

eBay's real page asks the seller to sign in and then to agree; the sandbox has no passwords,
so the seller is picked from a list (or fixed by `?seller=`).
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from .errors import Page

STYLE = (
    "body{font-family:sans-serif;max-width:40em;margin:2em auto;color:#111}"
    "h1{font-size:1.4em}li{font-size:.9em}button{margin-right:1em;padding:.4em 1.2em}"
    ".error{color:#b00}"
)


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def consent_page(
    *, app_name: str, action: str, scopes: Iterable[str], sellers: list[str], seller: str | None
) -> Page:
    """The grant page: which app, which scopes, which seller; Agree or Decline (POSTed to
    `action`, the page's own address, so the request's parameters come back with it)."""
    scope_items = "".join(f"<li>{escape(scope)}</li>" for scope in scopes)
    if seller is not None:
        who = (
            f"<p>Signed in as <strong>{escape(seller)}</strong></p>"
            f'<input type="hidden" name="seller" value="{escape(seller)}">'
        )
    elif sellers:
        options = "".join(
            f'<option value="{escape(name)}">{escape(name)}</option>' for name in sellers
        )
        who = f'<p><label>Seller account <select name="seller">{options}</select></label></p>'
    else:
        who = '<p class="error">No seller account is registered in this sandbox.</p>'
    body = (
        f"<h1>Grant application access: {escape(app_name)}</h1>"
        f"<p>{escape(app_name)} would like to access your eBay account:</p>"
        f"<ul>{scope_items}</ul>"
        f'<form method="post" action="{escape(action)}">{who}'
        '<button type="submit" name="decision" value="agree">Agree</button>'
        '<button type="submit" name="decision" value="decline">Decline</button>'
        "</form>"
    )
    return Page(_document("eBay - Grant application access", body))


def error_page(error_id: str, description: str, status: int) -> Page:
    """eBay's consent error: a page naming the error, never a redirect to an unchecked URL."""
    body = (
        "<h1>We could not process your request</h1>"
        f'<p class="error">{escape(description)}</p>'
        f"<pre>{escape(f'error_id: {error_id}  http_status_code: {status}')}</pre>"
    )
    return Page(_document("eBay - Error", body))
