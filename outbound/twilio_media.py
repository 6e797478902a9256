"""Fetching and deleting a texted photo at Twilio, and nothing else (no SSRF).

A media URL arrives in a webhook's form. The worker fetches it with the account's credentials,
so it must never be a way to make this server request an address of someone's choosing, or to
send the credentials elsewhere: only URLs on the configured Twilio API origin
(settings.twilio_api_url, else https://api.twilio.com), under this account's messages, are
requested. Twilio answers with a redirect to its media CDN; that hop is followed only to https
hosts of TWILIO_MEDIA_HOSTS, without credentials. Errors never quote the URL (it names the
account and the message), so they can be logged and stored.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import requests

from cases.images import MAX_BYTES

DEFAULT_API = "https://api.twilio.com"
# where Twilio's media URLs redirect to (signed, short-lived CDN links)
TWILIO_MEDIA_HOSTS = ("twiliocdn.com", "twilio.com", "amazonaws.com")
MAX_REDIRECTS = 3
TIMEOUT = 20.0
CHUNK = 64 * 1024


class MediaError(Exception):
    """A fetch or delete that failed; `permanent` ones are not tried again."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class TooBig(MediaError):
    """The media is over MAX_BYTES: refused, not retried."""

    def __init__(self) -> None:
        super().__init__(f"the media is over {MAX_BYTES // (1024 * 1024)} MB", permanent=True)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class TwilioMedia:
    """Twilio's media endpoints for one account, with HTTP basic auth."""

    def __init__(
        self,
        account_sid: str | None,
        auth_token: str | None,
        api_url: str | None = None,
        timeout: float = TIMEOUT,
    ):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.origin = _origin(api_url or DEFAULT_API)
        self.timeout = timeout
        self.http = requests.Session()
        self.http.trust_env = False  # no proxy or .netrc credentials from the environment

    def allowed(self, url: str | None) -> bool:
        """Whether a URL is this account's media on the configured Twilio API origin."""
        if not url or not self.account_sid:
            return False
        parts = urlsplit(url)
        return (
            _origin(url) == self.origin
            and parts.username is None
            and parts.password is None
            and parts.path.startswith(f"/2010-04-01/Accounts/{self.account_sid}/Messages/")
            and "/Media/" in parts.path
            and ".." not in parts.path
        )

    def _credentials(self) -> tuple[str, str]:
        if not (self.account_sid and self.auth_token):
            raise MediaError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set")
        return self.account_sid, self.auth_token

    def _check(self, url: str | None) -> str:
        if not self.allowed(url):
            raise MediaError(
                "not fetched: the media URL is not this account's media on the Twilio API host",
                permanent=True,
            )
        return str(url)

    def fetch(self, url: str | None) -> bytes:
        """The media's bytes (at most MAX_BYTES: TooBig past that)."""
        current = self._check(url)
        auth: tuple[str, str] | None = self._credentials()
        for _ in range(MAX_REDIRECTS + 1):
            try:
                response = self.http.get(
                    current, auth=auth, timeout=self.timeout, stream=True, allow_redirects=False
                )
            except requests.RequestException as exc:
                raise MediaError(f"download failed: {type(exc).__name__}") from None
            with response:
                if response.is_redirect:
                    current, auth = self._redirect(current, response, auth)
                    continue
                _raise_for_status(response, "download")
                return _read_capped(response)
        raise MediaError("download failed: too many redirects", permanent=True)

    def _redirect(
        self, current: str, response: requests.Response, auth: tuple[str, str] | None
    ) -> tuple[str, tuple[str, str] | None]:
        target = urljoin(current, response.headers.get("Location", ""))
        if _origin(target) == self.origin:
            return self._check(target), auth
        parts = urlsplit(target)
        host = (parts.hostname or "").lower()
        if parts.scheme == "https" and any(
            host == h or host.endswith("." + h) for h in TWILIO_MEDIA_HOSTS
        ):
            return target, None  # the CDN link is signed: credentials stay with Twilio's API
        raise MediaError(
            "not fetched: Twilio redirected to a host that is not allowed", permanent=True
        )

    def delete(self, url: str | None) -> None:
        """Delete Twilio's copy (gone already counts as deleted)."""
        current = self._check(url)
        try:
            response = self.http.delete(
                current, auth=self._credentials(), timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise MediaError(f"delete failed: {type(exc).__name__}") from None
        with response:
            if response.status_code == 404:
                return
            _raise_for_status(response, "delete")


def _raise_for_status(response: requests.Response, what: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if status == 404:
        raise MediaError(f"{what} failed: Twilio no longer has this media (404)", permanent=True)
    retry = status in (401, 403, 408, 429) or status >= 500
    raise MediaError(f"{what} failed: HTTP {status}", permanent=not retry)


def _read_capped(response: requests.Response) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise TooBig()
    data = bytearray()
    try:
        for chunk in response.iter_content(CHUNK):
            data += chunk
            if len(data) > MAX_BYTES:
                raise TooBig()
    except requests.RequestException as exc:
        raise MediaError(f"download failed: {type(exc).__name__}") from None
    return bytes(data)
