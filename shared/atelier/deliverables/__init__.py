"""Owns files: the key convention, signed links, the ObjectStore port and its S3 adapter, service, showcase.
May import: kernel, notion, sync."""
