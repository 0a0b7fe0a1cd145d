"""The search page's words in English and Chinese (the user chooses; their config sets the start)."""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "app": "OpinionWatch", "search": "Search", "topics": "Topics", "alerts": "Alerts", "saved": "Saved searches",
        "logout": "Log out", "login": "Log in", "user": "User", "password": "Password",
        "login_failed": "Wrong user or password.", "query_help": "Query language",
        "placeholder": "e.g. NovaMart AND (recall OR 召回)", "period": "Period", "24h": "24 hours",
        "7d": "7 days", "30d": "30 days", "90d": "90 days", "all": "All time", "custom": "From – to",
        "watchlists": "Watchlist", "source": "Source", "domain": "Site", "language": "Language",
        "sentiment": "Sentiment", "risk": "Risk", "topic_id": "Topic", "sort": "Sort",
        "relevance": "Relevance", "date": "Newest", "reach": "Reach", "apply": "Apply", "clear": "Clear",
        "results": "{total} items", "no_results": "Nothing matches. Widen the period or remove a filter.",
        "reprints": "+{reprints} reprints · {sites} sites", "members": "All versions",
        "more_like_this": "More like this", "not_relevant": "Not relevant", "wrong_sentiment": "Wrong sentiment",
        "thanks": "Thank you: recorded.", "export_csv": "Export CSV", "export_json": "Export JSON",
        "save_search": "Save this search", "name": "Name", "previous": "Previous", "next": "Next",
        "timeline": "Items a day", "timeline_weekly": "Items a week", "negative": "negative", "neutral": "neutral", "positive": "positive",
        "acknowledge": "Acknowledge", "resolve": "Resolve", "open": "Open", "acknowledged": "Acknowledged",
        "resolved": "Resolved", "no_alerts": "No alerts.", "evidence": "Evidence", "stories": "stories",
        "no_topics": "No topics yet: they appear after the first daily fit.", "lineage": "Lineage",
        "signal": "Signal", "trend": "Trend", "size": "Stories", "interface": "中文", "delete": "Delete",
        "as_config": "As config", "no_saved": "No saved searches.", "matched": "Matched",
        "undated": "undated, first seen {when}", "toward": "{label} toward {entity}",
        "similar_none": "Nothing similar found.", "page": "Page {page}",
        "help_text": "Words match anywhere; \"quoted phrases\"; AND, OR, NOT (or -word); parentheses; "
        "NEAR/5 for words within five; fields such as title:, source:, lang:zh, watchlist:, topic:, "
        "sentiment:negative, risk:high, toward:NovaMart:negative.",
    },
    "zh": {
        "app": "舆情监测", "search": "搜索", "topics": "话题", "alerts": "预警", "saved": "已保存的搜索",
        "logout": "退出", "login": "登录", "user": "用户名", "password": "密码",
        "login_failed": "用户名或密码错误。", "query_help": "查询语法",
        "placeholder": "例如 诺瓦商城 AND (召回 OR recall)", "period": "时间", "24h": "24小时",
        "7d": "7天", "30d": "30天", "90d": "90天", "all": "全部", "custom": "自定义",
        "watchlists": "监测清单", "source": "来源", "domain": "网站", "language": "语言",
        "sentiment": "情感", "risk": "风险", "topic_id": "话题", "sort": "排序",
        "relevance": "相关度", "date": "最新", "reach": "传播面", "apply": "应用", "clear": "清除",
        "results": "共 {total} 条", "no_results": "没有结果。请放宽时间或去掉筛选条件。",
        "reprints": "+{reprints} 篇转载 · {sites} 个网站", "members": "全部版本",
        "more_like_this": "相似内容", "not_relevant": "不相关", "wrong_sentiment": "情感判断有误",
        "thanks": "已记录，谢谢。", "export_csv": "导出 CSV", "export_json": "导出 JSON",
        "save_search": "保存此搜索", "name": "名称", "previous": "上一页", "next": "下一页",
        "timeline": "每日条数", "timeline_weekly": "每周条数", "negative": "负面", "neutral": "中性", "positive": "正面",
        "acknowledge": "确认", "resolve": "解决", "open": "未处理", "acknowledged": "已确认",
        "resolved": "已解决", "no_alerts": "没有预警。", "evidence": "证据", "stories": "个报道",
        "no_topics": "暂无话题：首次每日聚类后出现。", "lineage": "演变",
        "signal": "信号", "trend": "趋势", "size": "报道数", "interface": "English", "delete": "删除",
        "as_config": "配置片段", "no_saved": "没有已保存的搜索。", "matched": "命中",
        "undated": "未注明日期，首次发现于 {when}", "toward": "对{entity}{label}",
        "similar_none": "没有找到相似内容。", "page": "第 {page} 页",
        "help_text": "词语任意位置匹配；\"引号\"表示短语；AND、OR、NOT（或 -词）；括号分组；NEAR/5 表示相距五个词以内；"
        "字段如 title:、source:、lang:zh、watchlist:、topic:、sentiment:negative、risk:high、toward:NovaMart:negative。",
    },
}  # fmt: skip
