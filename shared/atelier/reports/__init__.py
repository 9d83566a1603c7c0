"""Owns the owner's reports: the `report` rpc as tables, charts, page, Excel and PDF, and their signed links.
May import: kernel, mail (the weekly report is an e-mail)."""
