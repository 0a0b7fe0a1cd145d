"""The local news world: a deterministic small internet with planted truth, for tests and the demo."""

from opinionwatch.newsworld.generator import Article, Post, Site, World, build_world
from opinionwatch.newsworld.server import NewsWorldServer

__all__ = ["Article", "NewsWorldServer", "Post", "Site", "World", "build_world", "environment"]


def environment(server: NewsWorldServer) -> dict[str, str]:
    """Variables that ``config/demo.yaml`` reads: one base URL per site, and the API."""
    env = {
        f"NEWSWORLD_{site.name.upper().replace('-', '_')}": server.base_url(site.name)
        for site in server.world.sites
    }
    env["NEWSWORLD_API"] = server.api_url
    return env
