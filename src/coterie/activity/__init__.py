"""Activity on shared records: comments with mentions, the change timeline, notifications."""
