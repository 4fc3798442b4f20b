"""The tamper-evident trail (痕迹管理): hash-chained case events and the read log."""
