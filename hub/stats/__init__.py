"""Statistics (三率 and friends) over cases, grouped and filtered, and their CSV export."""
