"""Alert rules and channels (``alerts:`` in the config)."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from config.sources import NAME_PATTERN
from config.strict import Strict

Severity = Literal["info", "warning", "critical"]
SEVERITIES = ("info", "warning", "critical")
RuleKind = Literal["volume", "risk", "negative_turn", "source_broken", "emerging_topic"]
ChannelType = Literal["email", "webhook", "slack", "feishu", "dingtalk", "wecom"]


class AlertRule(Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Rule identifier, shown in each alert.")
    kind: RuleKind = Field(
        description="`volume`: a spike (or dip) of new stories against the time-of-day and kind-of-day "
        "baseline; `risk`: stories reaching `level`, or with a risk term on `min_sites` sites, one alert per "
        "episode (risky stories no more than `cooldown_hours` apart); "
        "`negative_turn`: the share of items negative toward a watched entity jumps; `source_broken`: a "
        "source turns broken (not merely quiet); `emerging_topic`: a topic turns into a strong signal."
    )
    watchlists: list[str] = Field(default_factory=list, description="Watchlists it watches (empty: all).")
    severity: Severity = Field(default="warning", description="`info`, `warning` or `critical`.")
    sensitivity: float = Field(
        default=6.0, gt=0, description="`volume`: robust standard deviations above the baseline."
    )
    min_count: int = Field(default=3, ge=1, description="`volume`: new stories in the hour, at least.")
    dips: bool = Field(default=False, description="`volume`: also alert when coverage drops away.")
    level: Literal["low", "medium", "high", "critical"] = Field(
        default="high", description="`risk`: the risk level that raises an alert."
    )
    min_sites: int = Field(
        default=3, ge=1, description="`risk`: a story with a risk term on this many sites raises one too."
    )
    jump: float = Field(
        default=0.3, gt=0, le=1, description="`negative_turn`: rise of the negative share over its week."
    )
    cooldown_hours: float = Field(
        default=12.0, ge=0, description="After an alert, the same rule and subject update it, not a new one."
    )


class AlertChannel(Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Channel identifier, named by teams.")
    type: ChannelType = Field(
        description="`email`, `webhook` (generic JSON), `slack`, `feishu`, `dingtalk` or `wecom`."
    )
    webhook_url: SecretStr | None = Field(
        default=None, description="Incoming-webhook address (it carries a token: from `${VAR}` only)."
    )
    secret: SecretStr | None = Field(
        default=None,
        description="Signing secret (Feishu, DingTalk; `webhook`: an HMAC-SHA256 header); from `${VAR}` "
        "only.",
    )
    recipients: list[str] = Field(default_factory=list, description="`email`: addresses.")
    min_severity: Severity = Field(default="info", description="Only alerts at least this severe.")

    @model_validator(mode="after")
    def _complete(self) -> AlertChannel:
        if self.type == "email" and not self.recipients:
            raise ValueError(f"alert channel {self.name!r}: an email channel needs `recipients`")
        if self.type != "email" and self.webhook_url is None:
            raise ValueError(f"alert channel {self.name!r}: a {self.type} channel needs `webhook_url`")
        return self


class QuietHours(Strict):
    start: time = Field(description="Local start (HH:MM) in the team's timezone.")
    end: time = Field(description="Local end (HH:MM); may be after midnight.")


class AlertSettings(Strict):
    enabled: bool = Field(default=True, description="Check the rules after every crawl.")
    rules: list[AlertRule] = Field(
        default_factory=lambda: [
            AlertRule(name="volume-spike", kind="volume"),
            AlertRule(name="high-risk", kind="risk", level="high", cooldown_hours=24),
            AlertRule(name="negative-turn", kind="negative_turn", cooldown_hours=72),
            AlertRule(name="source-broken", kind="source_broken", severity="info"),
            AlertRule(name="emerging-topic", kind="emerging_topic", severity="info"),
        ],
        description="The rules (default: a volume spike, high risk (an episode lasts while risky stories "
        "come less than 24 hours apart), a negative turn (72 hours before the same watchlist's turn raises "
        "a new alert rather than updating it), a broken source and an emerging topic, over every watchlist).",
    )
    channels: list[AlertChannel] = Field(default_factory=list, description="Where alerts can go.")
