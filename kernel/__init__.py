"""What every layer shares, below them all: domain errors, the declarative base, accounts."""
