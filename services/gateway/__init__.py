"""The gateway: the platform's public web face (pages, one-click links, calendar feed)."""
