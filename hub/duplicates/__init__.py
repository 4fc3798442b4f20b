"""Duplicates across channels (一网打尽): the same matter reported on several channels, found and fanned out."""
