"""Sequences as analysts draw them: drafts, validation and immutable published versions; user accounts."""
