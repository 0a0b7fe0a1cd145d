"""The digest's words in the team's language (``team.language``: ``en`` or ``zh``), risk reasons included.
Story titles, snippets and the matched terms stay as written."""

from __future__ import annotations

from typing import Any

from config.wording import Templates
from crawlers.health import ERROR_SEPARATOR, FIXES, NO_ANSWER
from crawlers.health import REASONS as HEALTH_REASONS
from digests.alert_rules import RISK_REASON_SEPARATOR
from digests.alert_rules import WORDING as ALERT_WORDING
from nlp.risk import REASONS as RISK_REASONS

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "OpinionWatch daily digest",
        "subject": "OpinionWatch {team} digest, {day}: {attention}{items} items",
        "subject_attention": "{n} need attention, ",
        "meta": "Team {team} · {day} ({zone}) · {items} matching items · generated {generated}",
        "attention": "{n} stories need attention",
        "attention_one": "1 story needs attention",
        "calm": "Nothing needs attention: no story at medium risk or above, "
        "none negative toward your entities.",
        "overview": "{stories} stories from {items} items across {sections} watchlists.",
        "late": "Sent late: due {due}, sent {sent} (the service was down or busy at the send time).",
        "missed": "Digests of these days were missed and not sent: {days} (send one with "
        "`opinionwatch digest --date DAY --send`).",
        "company": "Company", "policy": "Policy", "industry": "Industry", "other": "Other",
        "items_n": "{n} items", "item_1": "1 item", "sites_n": "{n} sites", "site_1": "1 site",
        "section_count": "{items} · {stories}",
        "stories_n": "{n} stories", "story_1": "1 story",
        "no_coverage": "No coverage on this day.",
        "listed_above": "Its stories of the day are listed above, under the first list they matched.",
        "first": "first", "since": "ongoing since {day}", "also_in": "also in",
        "matched": "matched", "risk": "risk", "sources": "Sources",
        "matched_term": "{term} in {field}", "matched_alias": "{term} (alias of {entity}) in {field}",
        "matched_query": "{term} (query) in {field}", "field_title": "title", "field_body": "body",
        "also_language": "also in {language}: {items} · {sites}",
        "more_sources": "and {n} more",
        "negative": "negative", "positive": "positive", "neutral": "neutral",
        "toward": "{label} toward {entity}",
        "none": "none", "low": "low", "medium": "medium", "high": "high", "critical": "critical",
        "volume": "Matching items per day, last {n} days (bars), and the negative share (line)",
        "topics": "New and growing topics",
        "topic_line": "{trend} · {signal} signal · {stories} stories, {items} items today",
        "topic_yours": "{n} of them in this digest",
        "new": "new", "growing": "growing", "weak": "weak", "strong": "strong", "noise": "noise",
        "health": "Source health",
        "health_ok": "All sources are working.",
        "broken_since": "broken since {when}",
        "broken": "broken", "quiet": "quiet (reachable, fewer items than usual)",
        "changes": "Since the last digest ({day})",
        "changes_none": "No change in the listed stories.",
        "change_new": "new", "change_grew": "grew from {before} to {after} sites",
        "change_riskier": "risk rose from {before} to {after}", "change_negative": "turned negative",
        "dropped": "{n} stories of the last digest are not in this one.",
        "alert_update": " (update {n})", "alert_seen": "first seen {when} · alert #{id}",
        "alert_reach": " ({items} items, {sites} sites)", "alert_subject": "OpinionWatch alert: {title}",
    },
    "zh": {
        "title": "OpinionWatch 每日舆情简报",
        "subject": "OpinionWatch {team} 简报 {day}：{attention}{items} 条相关内容",
        "subject_attention": "{n} 条需关注，",
        "meta": "团队 {team} · {day}（{zone}）· {items} 条相关内容 · 生成于 {generated}",
        "attention": "{n} 条报道需要关注",
        "attention_one": "1 条报道需要关注",
        "calm": "今日无需特别关注：没有中等及以上风险的报道，也没有对所关注对象的负面报道。",
        "overview": "{sections} 个关注列表，共 {stories} 个事件、{items} 条内容。",
        "late": "延迟发送：原定 {due}，实际 {sent}（发送时服务未运行或忙碌）。",
        "missed": "以下日期的简报未能发送：{days}（可用 `opinionwatch digest --date DAY --send` 补发）。",
        "company": "公司", "policy": "政策", "industry": "行业", "other": "其他",
        "items_n": "{n} 条", "item_1": "1 条", "sites_n": "{n} 个网站", "site_1": "1 个网站",
        "section_count": "{items} · {stories}",
        "stories_n": "{n} 个事件", "story_1": "1 个事件",
        "no_coverage": "当日无相关报道。",
        "listed_above": "当日相关事件已在上文所属的第一个关注列表下列出。",
        "first": "首发", "since": "自 {day} 起持续", "also_in": "同时属于",
        "matched": "命中", "risk": "风险", "sources": "来源",
        "matched_term": "{term}（{field}）", "matched_alias": "{term}（{entity}的别名，{field}）",
        "matched_query": "{term}（查询词，{field}）", "field_title": "标题", "field_body": "正文",
        "also_language": "另有{language}报道：{items} · {sites}",
        "reason_title_term": "标题含「{term}」", "reason_body_term": "正文含「{term}」",
        "reason_more_term": "另有 1 个风险词（{terms}）", "reason_more_terms": "另有 {n} 个风险词（{terms}）",
        "reason_negative": "对{entity}负面（{confidence}）",
        "reason_reach": "{hours} 小时内 {sites} 个网站报道",
        "more_sources": "另有 {n} 条",
        "negative": "负面", "positive": "正面", "neutral": "中性",
        "toward": "对{entity}{label}",
        "none": "无", "low": "低", "medium": "中", "high": "高", "critical": "严重",
        "volume": "近 {n} 天每日相关内容数（柱）与负面占比（线）",
        "topics": "新出现和增长中的话题",
        "topic_line": "{trend} · {signal}信号 · 当日 {stories} 个事件、{items} 条内容",
        "topic_yours": "其中 {n} 个在本简报中",
        "new": "新出现", "growing": "增长中", "weak": "弱", "strong": "强", "noise": "噪声",
        "health": "信源状态",
        "health_ok": "所有信源运行正常。",
        "broken_since": "自 {when} 起失效",
        "why_no_runs": "尚未运行", "why_first_run_failed": "从未成功：首次运行失败（{errors}）",
        "why_all_runs_failed": "从未成功：{n} 次运行全部失败（{errors}）",
        "why_failing": "连续 {n} 次运行失败（最近一次：{errors}）",
        "why_last_failed": "上次运行失败（{errors}）；连续 {n} 次失败即判为失效",
        "why_new": "新增 {new} 条", "why_new_usually": "新增 {new} 条（通常 {usual} 条）",
        "why_listed_nothing": "有响应但列表为空（通常 {usual} 条）",
        "why_quiet": "可访问；新增 {new} 条（通常 {usual} 条）",
        "fix_blocked_address": "该地址为内网或回环地址；可在 crawl.allow_private 中放行",
        "fix_robots": "robots.txt 禁止抓取", "fix_connection_failed": "该地址无响应",
        "no_answer": "无响应",
        "alert_update": "（第 {n} 次更新）", "alert_seen": "首次发现 {when} · 告警 #{id}",
        "alert_reach": "（{items} 条，{sites} 个网站）", "alert_subject": "OpinionWatch 告警：{title}",
        "alert_title_volume": "{watchlist}：报道量{kind}",
        "alert_title_risk": "{watchlist}：{level}风险 · {story}",
        "alert_title_negative": "{watchlist}：报道转为负面", "alert_title_source": "信源 {source} 失效",
        "alert_title_topic": "新兴话题：{label}",
        "alert_reason_volume_hour": "截至 {until} UTC 的 1 小时内新增 {count} 个事件，通常 {baseline} 个"
        "（{score} 个标准差，{what}于平时）",
        "alert_reason_volume_hours": "截至 {until} UTC 的 {hours} 小时内新增 {count} 个事件，"
        "通常 {baseline} 个（{score} 个标准差，{what}于平时）",
        "alert_reason_risk_episode": "自 {since} UTC 起 {n} 个风险事件；风险最高的：{reasons}",
        "alert_reason_risk_sites": "{sites} 个网站出现风险词",
        "alert_reason_negative": "过去 24 小时 {total} 条内容中 {negative} 条对其负面（{share}），"
        "此前六天为 {before}",
        "alert_reason_topic": "{day} {trend}，信号强（{stories} 个事件）",
        "spike": "激增", "dip": "骤降", "more": "多", "fewer": "少",
        "broken": "失效", "quiet": "较平时安静（可访问，内容偏少）",
        "changes": "自上期简报（{day}）以来的变化",
        "changes_none": "所列事件无变化。",
        "change_new": "新增", "change_grew": "传播网站由 {before} 个增至 {after} 个",
        "change_riskier": "风险由{before}升至{after}", "change_negative": "转为负面",
        "dropped": "上期简报中的 {n} 个事件未出现在本期。",
    },
}  # fmt: skip


SINGULAR = {"items": "item", "sites": "site", "stories": "story"}
LANGUAGE_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "en": "English", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "de": "German",
        "fr": "French", "es": "Spanish", "pt": "Portuguese", "it": "Italian", "ru": "Russian",
    },
    "zh": {
        "en": "英文", "zh": "中文", "ja": "日文", "ko": "韩文", "de": "德文",
        "fr": "法文", "es": "西班牙文", "pt": "葡萄牙文", "it": "意大利文", "ru": "俄文",
    },
}  # fmt: skip
"""A language's name (its ISO 639-1 code) in each digest language."""


WORDED = ("kind", "what", "level", "trend")
"""Values of an alert's wording that are words of ours (``spike``, ``high``, ``new``), not names or titles."""


class Labels:
    """``labels("key", **values)``: the team's wording of one label."""

    def __init__(self, language: str) -> None:
        self.words = LABELS.get(language, LABELS["en"])
        self.languages = LANGUAGE_NAMES.get(language, LANGUAGE_NAMES["en"])

    def __call__(self, key: str, **values: Any) -> str:
        return self.words[key].format(**values)

    def count(self, n: int, unit: str) -> str:
        """``3 items`` / ``1 site`` in the team's language (``unit``: ``items``, ``sites`` or ``stories``)."""
        return self(f"{SINGULAR[unit]}_1") if n == 1 else self(f"{unit}_n", n=n)

    def reason(self, reason: str) -> str:
        """A risk reason (written in English, :data:`nlp.risk.REASONS`) in the team's language; as written
        where the language has no wording for it."""
        found = self._reworded(RISK_REASONS, "reason_", reason)
        return found[0].format(**found[1]) if found else reason

    def health(self, reason: str) -> str:
        """A source's health reason (written in English, :data:`crawlers.health.REASONS`) in the team's
        language, its error codes as they are and what to do about them in words; as written where the
        language has no wording for it."""
        found = self._reworded(HEALTH_REASONS, "why_", reason)
        if not found:
            return reason
        wording, values = found
        if "errors" in values:
            values["errors"] = ERROR_SEPARATOR.join(map(self._error, values["errors"].split(ERROR_SEPARATOR)))
        return wording.format(**values)

    def alert(self, text: str) -> str:
        """An alert's title or reason (written in English, :data:`digests.alert_rules.WORDING`) in the
        team's language: its words (levels, trends) and the risk and health reasons in it too; names,
        titles and figures as they are. As written where the language has no wording for it."""
        found = self._reworded(ALERT_WORDING, "alert_", text)
        if not found:
            return self.health(text)  # a broken source's reason is its health's
        wording, values = found
        said = {name: self.word(v) if name in WORDED else v for name, v in values.items()}
        if "reasons" in values:
            said["reasons"] = self.risk_reasons(values["reasons"])
        return wording.format(**said)

    def _reworded(self, templates: Templates, prefix: str, text: str) -> tuple[str, dict[str, str]] | None:
        """This language's wording of the template ``text`` was written with (named ``prefix`` + the
        template's name), and the values read back; None where there is none."""
        parts = templates.parts(text)
        wording = self.words.get(f"{prefix}{parts[0]}") if parts else None
        return (wording, parts[1]) if parts and wording is not None else None

    def risk_reasons(self, reasons: str) -> str:
        """Risk reasons joined as a risk alert joins them, each in the team's language."""
        return RISK_REASON_SEPARATOR.join(map(self.reason, reasons.split(RISK_REASON_SEPARATOR)))

    def _error(self, error: str) -> str:
        code = error.split(": ", 1)[0]
        if error == NO_ANSWER:
            return self.words.get("no_answer", error)
        return (
            f"{code}: {self.words[f'fix_{code}']}" if f"fix_{code}" in self.words and code in FIXES else error
        )

    def language(self, code: str) -> str:
        """A language's name (``Chinese``, ``中文``); the code itself where there is none."""
        return self.languages.get(code, code)

    def word(self, value: str) -> str:
        """A level, label or trend in the team's language (itself where there is no wording)."""
        return self.words.get(value, value)
