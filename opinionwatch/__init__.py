"""OpinionWatch: the command line and the wiring of crawlers -> nlp -> index -> digests."""

__version__ = "0.1.0"
