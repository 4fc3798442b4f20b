"""Channel wire formats → CaseDraft, and replies back to the channel. Knows nothing of the database."""
