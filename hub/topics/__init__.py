"""Hot topics: rising categories, places and keywords over a window against the window before."""
