"""The demo district: departments, staff and routing rules, and weeks of cases filled through the real connector
path (``seed``: the past under a frozen clock; ``live``: a live tail through the running API; ``run``: `hub demo`)."""
