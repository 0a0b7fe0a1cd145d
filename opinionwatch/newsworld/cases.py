"""Pages that reproduce what goes wrong on real sites, served under ``/cases/`` with their truth.

Each case is a page as real portals write them (a heavy "recommended" block that trafilatura's precision
pass prefers to the article, a publication time without an offset in Beijing time, no date at all, a day
without a time, an ``og:title`` cut at an unescaped quote, kana dots in Chinese names, Latin terms between
Han characters, a byline line before the text, a page with no title and no text), and ``truth`` says
what a correct extraction gives. ``/cases/`` on each site lists its cases, for a ``site`` source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape

CASE_SITES = {"en": "harbor-daily", "zh": "huaxia-caijing"}


@dataclass(frozen=True)
class Case:
    name: str
    lang: str
    title: str
    paragraphs: tuple[str, ...]
    published: str | None
    """Expected publication time in UTC (ISO), or a day (``YYYY-MM-DD``) for date-only pages."""
    precision: str
    meta: str = ""
    """Extra ``<head>`` markup (dates, a broken ``og:title``)."""
    portal: bool = False
    byline: str | None = None
    html_lang: str | None = None
    expected_matches: dict[str, str] = field(default_factory=dict)
    """Watchlist -> a term that must match (with the news world's demo watchlists)."""

    @property
    def path(self) -> str:
        return f"/cases/{self.name}.html"


def cases(today: date) -> list[Case]:
    """The cases, dated relative to ``today`` (as the rest of the world is)."""
    day = today - timedelta(days=2)
    naive = datetime.combine(day, datetime.min.time()).replace(hour=18, minute=13, second=22)
    recall = (
        "诺瓦商城今日宣布召回其在华销售的一款移动电源，共计十二万台，原因是部分产品在充电时存在过热起火的风险。",
        "市场监管部门表示已经约谈该公司负责人，要求其在三十日内完成整改并向消费者说明退款安排。",
        "业内人士认为，跨境电商平台的产品安全问题近年来受到越来越多的关注，相关标准有望进一步收紧。",
        "诺瓦商城在声明中称，已经暂停该型号产品的销售，并将为所有购买者提供全额退款或更换服务。",
    )
    recall_report = recall + (
        "据了解，此次召回涉及的移动电源均为二〇二五年下半年生产，主要通过诺瓦商城自营渠道和部分第三方店铺销售。",
        "有消费者反映，产品在充电过程中外壳明显发烫，个别案例中出现冒烟和起火，所幸没有造成人员伤亡。",
        "监管部门提醒消费者，如发现所购产品属于召回范围，应立即停止使用，并通过官方渠道办理退款手续。",
        "诺瓦商城相关负责人表示，公司将对供应链进行全面排查，今后所有电子产品上架前都将进行第三方安全检测。",
        "多位律师指出，按照产品质量相关法规，销售者对缺陷产品造成的损失负有赔偿责任，消费者可依法维权。",
        "有业内分析师表示，移动电源属于高风险电子产品，电芯质量和保护电路设计是决定其安全性的关键因素。",
        "去年以来，多家电商平台因销售不合格充电产品被监管部门点名，部分平台已经下架了数千款相关商品。",
        "消费者协会呼吁平台加强对第三方卖家的资质审核，并建立更加透明的产品召回和信息公开机制。",
        "诺瓦商城表示，将在官网和应用内设立召回专区，消费者输入订单号即可查询所购产品是否在召回范围内。",
        "截至发稿时，诺瓦商城的客服热线仍然繁忙，部分消费者表示已经收到退款，但也有人称等待时间较长。",
    )
    return [
        Case(
            "portal-sidebar",
            "zh",
            "诺瓦商城召回十二万台移动电源",
            recall_report,
            f"{day.isoformat()}T{naive.hour - 8:02d}:13:22+00:00",
            "datetime",
            meta=f'<meta name="publishdate" content="{naive:%Y-%m-%d %H:%M:%S}">',
            portal=True,
            byline=f"来源：华夏财经 作者：记者 王晓 {naive:%Y-%m-%d %H:%M}",
            html_lang="zh-CN",
            expected_matches={"novamart": "诺瓦商城"},
        ),
        Case(
            "latin-in-han",
            "zh",
            "苹果发布新iPhone 11：搭载华为5G芯片传闻不实",
            (
                "苹果公司本周在发布会上推出新iPhone 11系列手机，起售价为5499元，并宣布应用商店将上线新服务。",
                "有传闻称新机搭载华为5G芯片，苹果方面回应称该说法不实，新机仍使用自研处理器。",
                "分析人士指出，5G手机的普及速度取决于芯片成本和网络覆盖，明年有望迎来换机高峰。",
            ),
            f"{day.isoformat()}T02:30:00+00:00",
            "datetime",
            meta=f'<meta property="article:published_time" content="{day.isoformat()}T10:30:00+08:00">'
            '<meta property="og:title" content="苹果发布新iPhone 11：搭载华为5G芯片传闻不实">',
            html_lang="zh-CN",
            expected_matches={"apple": "iPhone"},
        ),
        Case(
            "truncated-og-title",
            "zh",
            '诺瓦商城回应"退款难"质疑：七日内全部处理完毕',
            recall[1:3]
            + ("诺瓦商城表示，对于消费者反映的退款难问题，公司已经增加客服人手，确保七日内处理完毕。",),
            f"{day.isoformat()}T01:05:00+00:00",
            "datetime",
            meta='<meta property="og:title" content="诺瓦商城回应"退款难"质疑：七日内全部处理完毕">'
            f'<meta property="article:published_time" content="{day.isoformat()}T09:05:00+08:00">',
            html_lang="zh-CN",
        ),
        Case(
            "kana-dot",
            "zh",
            "美国前总统唐纳德・特朗普谈贸易谈判进展",
            (
                "美国前总统唐纳德・特朗普在接受采访时表示，贸易谈判取得了一定进展，但仍有分歧需要解决。",
                "他还提到了与日本前首相安倍晋三的会谈，以及与约翰・史密斯等官员的交流情况。",
                "评论人士认为，谈判结果将影响跨境电商平台的关税安排和物流成本，相关企业正密切关注。",
            ),
            f"{day.isoformat()}T04:00:00+00:00",
            "datetime",
            meta=f'<meta property="article:published_time" content="{day.isoformat()}T12:00:00+08:00">',
            html_lang="zh",
        ),
        Case(
            "undated",
            "en",
            "Harbor authority reviews warehouse safety rules",
            (
                "The harbor authority has begun a review of the safety rules that apply to warehouses along "
                "the eastern docks, after a series of inspections found blocked exits and faulty alarms.",
                "Operators will be asked to submit new evacuation plans, and the authority said it would "
                "publish its findings once the review is complete.",
            ),
            None,
            "none",
        ),
        Case(
            "date-only",
            "en",
            "Council approves new cargo lane at the port",
            (
                "The city council approved a new cargo lane at the port on a unanimous vote, saying it would "
                "cut waiting times for lorries that currently queue for hours along the coast road.",
                "Construction is expected to start next spring and to take about eight months to finish.",
            ),
            day.isoformat(),
            "date",
            meta=f'<meta name="date" content="{day.isoformat()}">',
        ),
        Case("empty", "en", "", (), None, "none"),
    ]


def case_page(case: Case, site_title: str, base: str, others: list[Case]) -> str:
    """The HTML of ``case`` as its site serves it."""
    lang = case.html_lang or case.lang
    title = f"<title>{escape(case.title)}_{escape(site_title)}</title>" if case.title else ""
    heading = f"<h1>{escape(case.title)}</h1>" if case.title else ""
    byline = f'<p class="byline">{escape(case.byline)}</p>' if case.byline else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in case.paragraphs)
    if case.portal:  # the inline style is what makes trafilatura's precision pass skip the article
        article = (
            f'{heading}<div class="post_body"><div class="post_text" style="border-top:1px solid #ddd;">'
            f"{byline}{body}</div></div>{_recommended(others, base)}"
        )
    else:
        article = f"<article>{heading}{byline}{body}</article>"
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">{title}'
        f'<meta property="og:site_name" content="{escape(site_title)}">{case.meta}</head><body>'
        f'<div class="nav">{_navigation(base) if case.portal else ""}<a href="{base}/cases/">专题</a></div>'
        f'<div class="post_content"><div class="post_main">{article}</div></div></body></html>'
    )


def _recommended(others: list[Case], base: str) -> str:
    """A portal's "recommended for you" block: teasers as paragraphs, then a ranked link list."""
    teasers = "".join(
        f'<div class="item"><p>推荐阅读：第{n}家上市公司发布年度报告，营业收入同比增长百分之{n + 7}，'
        f"市场普遍认为前景向好，分析师上调了评级。</p></div>"
        for n in range(1, 5)
    )
    ranked = "".join(  # rank, reads, headline: NetEase's "most read" list
        f'<li><span class="num">{n}</span><span class="count">{31000 - 977 * n}</span>'
        f'<a href="{base}{case.path}">{escape(case.title or "专题")}</a></li>'
        for n, case in enumerate(others, start=1)
    )
    return (
        f'<div class="post_recommend"><h3>为您推荐</h3>{teasers}<ul>{ranked}</ul>'
        "<p>网友评论仅供其表达个人看法，并不表明本站立场。</p></div>"
    )


def _navigation(base: str) -> str:
    sections = (
        "首页 新闻 国内 国际 财经 股票 科技 手机 汽车 房产 教育 健康 体育 娱乐 时尚 旅游 游戏 视频 图片 专题"
    )
    return " ".join(f'<a href="{base}/{n}">{word}频道</a>' for n, word in enumerate(sections.split()))


def case_listing(found: list[Case], site_title: str, base: str) -> str:
    links = "".join(
        f'<li><a href="{base}{case.path}">{escape(case.title or case.name)}</a></li>' for case in found
    )
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(site_title)}</title></head>'
        f"<body><main><ul>{links}</ul></main></body></html>"
    )
