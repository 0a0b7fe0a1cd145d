"""Settings of the service's outside connections: the mail server, the metrics endpoint, the web page."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from config.strict import Strict


class MailSettings(Strict):
    host: str = Field(default="localhost", description="SMTP server host.")
    port: int = Field(default=25, ge=1, le=65535, description="SMTP server port.")
    sender: str = Field(default="opinionwatch@localhost", description="From address of digests and alerts.")
    username: str | None = Field(default=None, description="SMTP user, if the server needs login.")
    password: SecretStr | None = Field(default=None, description="SMTP password, from `${VAR}` only.")
    starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS.")
    ssl: bool = Field(default=False, description="Connect over TLS from the start (SMTPS, usually port 465).")
    timeout_s: float = Field(default=30.0, gt=0, description="Seconds to wait for the server at each step.")
    retry_first_s: float = Field(
        default=60.0,
        gt=0,
        description="Wait before the first retry of a transient failure (4xx, dropped connection, timeout); "
        "it doubles with each further try.",
    )
    retry_most_s: float = Field(default=3600.0, gt=0, description="The longest wait between two tries.")
    max_attempts: int = Field(
        default=8, ge=1, description="Tries of one message before it is reported as failed for good."
    )

    @model_validator(mode="after")
    def _one_tls(self) -> MailSettings:
        if self.ssl and self.starttls:
            raise ValueError("choose one of `mail.ssl` (TLS from the start) and `mail.starttls`")
        return self


class MetricsSettings(Strict):
    enabled: bool = Field(
        default=True, description="`opinionwatch run` serves Prometheus metrics at `http://ADDRESS/metrics`."
    )
    address: str = Field(
        default="127.0.0.1:9464",
        pattern=r"^[^\s:]+:\d{1,5}$",
        description="`HOST:PORT` to serve metrics on. The endpoint has no login: keep it on loopback (or "
        "behind a proxy that has one). A port already in use is logged and the service runs on without "
        "metrics.",
    )

    @property
    def host(self) -> str:
        return self.address.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])


class WebUser(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$", description="Login name.")
    password_hash: str | None = Field(
        default=None,
        description="argon2 hash of the password (`opinionwatch hash-password` makes one); without it the "
        "user can only come in through `web.trusted_header`.",
    )
    language: Literal["en", "zh"] = Field(default="en", description="Interface language, until changed.")

    @model_validator(mode="after")
    def _argon2(self) -> WebUser:
        if self.password_hash is not None and not self.password_hash.startswith("$argon2"):
            raise ValueError(
                f"web user {self.name!r}: `password_hash` must be an argon2 hash "
                "(make one with `opinionwatch hash-password`), never the password itself"
            )
        return self


class WebSettings(Strict):
    address: str = Field(
        default="127.0.0.1:8080",
        pattern=r"^[^\s:]+:\d{1,5}$",
        description="`HOST:PORT` that `opinionwatch web` serves the search page and its API on.",
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Processes serving `address` together (one per core helps under many users). Each opens "
        "the index for reading; sessions work across them, rate limits are counted per process.",
    )
    threads: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Requests one web process works on at once (the rest wait their turn). A few keep "
        "Python's interpreter lock from thrashing: measured at 1M items, 40 threads served 40% fewer "
        "requests a second than 4.",
    )
    users: list[WebUser] = Field(default_factory=list, description="Who may log in.")
    trusted_header: str | None = Field(
        default=None,
        description="Header a reverse proxy that has already logged the user in sets to the user's name "
        "(e.g. `X-Forwarded-User`); honoured only from `trusted_proxies`.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="Addresses whose `trusted_header` and `X-Forwarded-Proto` are believed.",
    )
    session_hours: float = Field(default=12.0, gt=0, description="A login lasts this long.")
    requests_per_minute: int = Field(
        default=240, ge=1, description="Requests one user (or, before login, one address) may make a minute."
    )
    export_limit: int = Field(default=10_000, ge=1, description="Most items in one CSV or JSON export.")
