"""Finding public activities: the search service, its backends and the index that follows the
database. Views use directory.search.service; see directory.search.base for the interface."""
