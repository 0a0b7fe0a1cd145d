"""Render the news world's pages, feeds, sitemaps and API answers as bytes."""

from __future__ import annotations

import json
from datetime import datetime
from email.utils import format_datetime
from html import escape
from xml.sax.saxutils import escape as xml_escape

from opinionwatch.newsworld import content
from opinionwatch.newsworld.generator import Article, Site, World


def article_page(world: World, site: Site, article: Article, base: str) -> str:
    zh = site.lang == "zh"
    others = [a for a in world.articles_of(site.name) if a.id != article.id and a.crawlable][:4]
    most_read = "".join(f'<li><a href="{base}{a.path}">{escape(a.title)}</a></li>' for a in others)
    comments = "".join(
        f'<li class="comment"><b>reader{i}</b>: {escape(text)}</li>'
        for i, text in enumerate(content.COMMENTS_ZH if zh else content.COMMENTS_EN)
    )
    body = "".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
    stamp = article.published.isoformat()
    nav = "首页 国内 国际 财经 科技 体育" if zh else "Home World Business Tech Sport Culture"
    nav_links = "".join(f'<a href="{base}/">{escape(word)}</a> ' for word in nav.split())
    ad = "广告：夏季大促，全场五折" if zh else "Advertisement: Summer sale, everything half price"
    charset = "gbk" if site.encoding == "gbk" else "utf-8"
    return f"""<!DOCTYPE html>
<html lang="{site.lang}"><head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{escape(article.title)} | {escape(site.title)}</title>
<link rel="canonical" href="{base}{article.path}">
<meta property="og:site_name" content="{escape(site.title)}">
<meta property="article:published_time" content="{stamp}">
<meta name="author" content="{escape(article.author)}">
</head><body>
<header><div class="logo">{escape(site.title)}</div><nav>{nav_links}</nav></header>
<div class="ad-banner">{escape(ad)}</div>
<main><article>
<h1>{escape(article.title)}</h1>
<p class="byline">{escape(article.author)} ·
<time datetime="{stamp}">{article.published:%Y-%m-%d %H:%M}</time></p>
<div class="article-body">{body}</div>
</article>
<aside class="most-read"><h2>{"热门文章" if zh else "Most read"}</h2><ul>{most_read}</ul></aside>
<section class="comments"><h2>{"评论" if zh else "Comments"}</h2><ul>{comments}</ul></section>
</main>
<footer>© {article.published.year} {escape(site.title)}.
{"版权所有" if zh else "All rights reserved."}</footer>
</body></html>"""


def home_page(world: World, site: Site, base: str) -> str:
    items = "".join(
        f'<li><a href="{base}{a.path}">{escape(a.title)}</a></li>'
        for a in world.articles_of(site.name)
        if a.crawlable
    )
    return (
        f'<!DOCTYPE html><html lang="{site.lang}"><head><meta charset="utf-8"><title>{escape(site.title)}'
        f'</title><link rel="alternate" type="application/rss+xml" href="{base}/feed.xml"></head>'
        f"<body><h1>{escape(site.title)}</h1><ul>{items}</ul></body></html>"
    )


def feed(world: World, site: Site, base: str) -> str:
    articles = world.articles_of(site.name)
    if site.feed_format == "atom":
        return _atom(site, articles, base)
    if site.feed_format == "rdf":
        return _rdf(site, articles, base)
    return _rss(site, articles, base)


def _rss(site: Site, articles: list[Article], base: str) -> str:
    items = "".join(
        f"<item><title>{xml_escape(a.title)}</title><link>{base}{a.path}</link>"
        f'<guid isPermaLink="false">{a.id}</guid><pubDate>{format_datetime(a.published)}</pubDate>'
        f"<description>{xml_escape(a.paragraphs[0])}</description></item>"
        for a in articles
    )
    encoding = "gbk" if site.encoding == "gbk" else "utf-8"
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel>'
        f"<title>{xml_escape(site.title)}</title><link>{base}/</link><language>{site.lang}</language>"
        f"{items}</channel></rss>"
    )


def _atom(site: Site, articles: list[Article], base: str) -> str:
    entries = "".join(
        f'<entry><title>{xml_escape(a.title)}</title><link rel="alternate" href="{base}{a.path}"/>'
        f"<id>tag:{site.name},2026:{a.id}</id><updated>{a.published.isoformat()}</updated>"
        f"<published>{a.published.isoformat()}</published>"
        f"<summary>{xml_escape(a.paragraphs[0])}</summary></entry>"
        for a in articles
    )
    updated = articles[0].published.isoformat() if articles else "2026-01-01T00:00:00+00:00"
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f'<title>{xml_escape(site.title)}</title><link href="{base}/"/><id>tag:{site.name},2026:feed</id>'
        f"<updated>{updated}</updated>{entries}</feed>"
    )


def _rdf(site: Site, articles: list[Article], base: str) -> str:
    items = "".join(
        f'<item rdf:about="{base}{a.path}"><title>{xml_escape(a.title)}</title><link>{base}{a.path}</link>'
        f"<dc:date>{a.published.isoformat()}</dc:date>"
        f"<description>{xml_escape(a.paragraphs[0])}</description></item>"
        for a in articles
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<channel rdf:about="{base}/feed.xml"><title>{xml_escape(site.title)}</title><link>{base}/</link>'
        f"<description>{xml_escape(site.title)}</description></channel>{items}</rdf:RDF>"
    )


def sitemap(world: World, site: Site, base: str) -> str:
    urls = "".join(
        f"<url><loc>{base}{a.path}</loc><lastmod>{a.published.isoformat()}</lastmod>"
        f"<news:news><news:publication><news:name>{xml_escape(site.title)}</news:name>"
        f"<news:language>{site.lang}</news:language></news:publication>"
        f"<news:publication_date>{a.published.isoformat()}</news:publication_date>"
        f"<news:title>{xml_escape(a.title)}</news:title></news:news></url>"
        for a in world.articles_of(site.name)
        if a.crawlable
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        f' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
    )


def robots(base: str) -> str:
    return f"User-agent: *\nDisallow: /private/\n\nSitemap: {base}/sitemap.xml\n"


def api_posts(world: World, since: datetime | None, cursor: int, page_size: int, base: str) -> str:
    posts = sorted(world.posts, key=lambda p: (p.created, p.id))
    if since is not None:
        posts = [p for p in posts if p.created > since]
    page = posts[cursor : cursor + page_size]
    next_cursor = cursor + page_size if cursor + page_size < len(posts) else None
    data = [
        {
            "id": p.id,
            "created_at": p.created.isoformat(),
            "author": {"handle": p.author},
            "text": p.text,
            "lang": p.lang,
            "url": f"{base}/posts/{p.id}",
        }
        for p in page
    ]
    return json.dumps({"data": data, "next_cursor": next_cursor}, ensure_ascii=False)
