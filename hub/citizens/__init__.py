"""Citizens and their identities on each channel: one person, many channels."""
