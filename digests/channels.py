"""Alert channels: incoming webhooks of Slack, Feishu/Lark, DingTalk and WeCom in their documented message
formats (with Feishu's and DingTalk's timestamp-and-secret signatures), a generic JSON webhook (optionally
signed with an HMAC-SHA256 header), and e-mail. Each is a ``Notifier`` of the outbox: the outbox holds the
alert as JSON; the message is formatted and signed at delivery, so a signature is always fresh. Webhook
addresses carry tokens: errors name the channel, never its address."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

import httpx

from config.alert_settings import AlertChannel
from digests.labels import Labels
from digests.outbox import DeliveryError, Envelope

SIGNATURE_HEADER = "X-OpinionWatch-Signature"
TIMEOUT_S = 10.0


def alert_text(alert: dict[str, Any]) -> tuple[str, str]:
    """A title and a Markdown body: severity, title, reason, when, and the evidence with links; in the
    language of the team it goes to (``language``, English where absent)."""
    labels = Labels(alert.get("language", "en"))
    update = labels("alert_update", n=alert["version"] - 1) if alert["version"] > 1 else ""
    title = f"[{alert['severity'].upper()}] {labels.alert(alert['title'])}{update}"
    seen = labels("alert_seen", when=alert["first_seen"], id=alert["id"])
    lines = [f"**{title}**", labels.alert(alert["reason"]), seen]
    for item in alert["evidence"]:
        reach = labels("alert_reach", items=item["items"], sites=item["sites"]) if item["sites"] else ""
        lines.append(
            f"- [{item['title']}]({item['url']}){reach}" if item["url"] else f"- {item['title']}{reach}"
        )
    return title, "\n".join(lines)


def slack(alert: dict[str, Any], channel: AlertChannel) -> tuple[dict[str, Any], dict[str, str]]:
    title, body = alert_text(alert)
    text = body.replace("**", "*")
    return {"text": title, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}, {}


def feishu(alert: dict[str, Any], channel: AlertChannel) -> tuple[dict[str, Any], dict[str, str]]:
    """Feishu/Lark custom bot: a text message; signed with ``timestamp`` (seconds) and ``sign`` =
    base64(HMAC-SHA256 keyed by "timestamp\\nsecret", of nothing)."""
    _, body = alert_text(alert)
    payload: dict[str, Any] = {"msg_type": "text", "content": {"text": body.replace("**", "")}}
    if channel.secret is not None:
        stamp = str(int(time.time()))
        key = f"{stamp}\n{channel.secret.get_secret_value()}".encode()
        payload |= {
            "timestamp": stamp,
            "sign": base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode(),
        }
    return payload, {}


def dingtalk(alert: dict[str, Any], channel: AlertChannel) -> tuple[dict[str, Any], dict[str, str]]:
    """DingTalk custom robot: a Markdown message; the signature goes in the address (see ``_address``)."""
    title, body = alert_text(alert)
    return {"msgtype": "markdown", "markdown": {"title": title, "text": body}}, {}


def wecom(alert: dict[str, Any], channel: AlertChannel) -> tuple[dict[str, Any], dict[str, str]]:
    _, body = alert_text(alert)
    return {"msgtype": "markdown", "markdown": {"content": body}}, {}


def webhook(alert: dict[str, Any], channel: AlertChannel) -> tuple[dict[str, Any], dict[str, str]]:
    """The alert as JSON; with a secret, ``X-OpinionWatch-Signature: t=<unix time>,sha256=<hex HMAC of
    "<t>." + body>``."""
    headers = {}
    if channel.secret is not None:
        stamp = str(int(time.time()))
        body = json.dumps(alert, sort_keys=True, ensure_ascii=False).encode()
        digest = hmac.new(
            channel.secret.get_secret_value().encode(), stamp.encode() + b"." + body, hashlib.sha256
        )
        headers[SIGNATURE_HEADER] = f"t={stamp},sha256={digest.hexdigest()}"
    return alert, headers


FORMATS: dict[str, Callable[[dict[str, Any], AlertChannel], tuple[dict[str, Any], dict[str, str]]]] = {
    "slack": slack, "feishu": feishu, "dingtalk": dingtalk, "wecom": wecom, "webhook": webhook,
}  # fmt: skip


class WebhookNotifier:
    """Delivers alert envelopes to one webhook channel."""

    def __init__(self, channel: AlertChannel, timeout_s: float = TIMEOUT_S) -> None:
        self.channel = channel
        self.timeout_s = timeout_s

    def deliver(self, envelope: Envelope, commit: Callable[[], None]) -> None:
        alert = json.loads(envelope.payload)
        payload, headers = FORMATS[self.channel.type](alert, self.channel)
        content = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        where = f"alert channel {self.channel.name} ({self.channel.type})"
        try:
            commit()
            answer = httpx.post(self._address(), content=content, timeout=self.timeout_s,
                                headers={"Content-Type": "application/json", **headers})  # fmt: skip
        except httpx.HTTPError as error:
            raise DeliveryError(f"{where}: {type(error).__name__}", transient=True) from None
        if answer.status_code == 429 or answer.status_code >= 500:
            raise DeliveryError(f"{where}: HTTP {answer.status_code}", transient=True)
        if answer.status_code >= 400:
            raise DeliveryError(f"{where}: HTTP {answer.status_code}: {answer.text[:200]}", transient=False)
        _check_platform(self.channel.type, answer, where)

    def _address(self) -> str:
        assert self.channel.webhook_url is not None
        url = self.channel.webhook_url.get_secret_value()
        if self.channel.type == "dingtalk" and self.channel.secret is not None:
            stamp = str(round(time.time() * 1000))
            secret = self.channel.secret.get_secret_value().encode()
            digest = hmac.new(
                secret, f"{stamp}\n{self.channel.secret.get_secret_value()}".encode(), hashlib.sha256
            )
            sign = quote_plus(base64.b64encode(digest.digest()))
            url += f"{'&' if '?' in url else '?'}timestamp={stamp}&sign={sign}"
        return url


def _check_platform(kind: str, answer: httpx.Response, where: str) -> None:
    """Feishu, DingTalk and WeCom answer 200 with an error code in the body; Slack answers ``ok``."""
    if kind == "slack" and answer.text.strip() != "ok":
        raise DeliveryError(f"{where}: Slack answered {answer.text[:200]!r}", transient=False)
    if kind not in ("feishu", "dingtalk", "wecom"):
        return
    try:
        body = answer.json()
    except ValueError:
        raise DeliveryError(f"{where}: the answer is not JSON", transient=True) from None
    code = body.get("code", body.get("StatusCode", body.get("errcode", 0)))
    if code not in (0, None):
        message = body.get("msg", body.get("errmsg", ""))
        raise DeliveryError(f"{where}: error {code} {message}", transient=False)
