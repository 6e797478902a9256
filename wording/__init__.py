"""Everything the bot says, as data: one message catalogue per locale (data/messages/*.yml)."""

from wording.catalogue import Catalogue, CatalogueError, Wording, load_catalogues

__all__ = ["Catalogue", "CatalogueError", "Wording", "load_catalogues"]
