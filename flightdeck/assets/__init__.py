"""The asset library's operations that span the database and file storage (seed 003):
storing received files deduplicated per tenant, creating assets from them, and deleting
bytes only when nothing uses them any more. Used by the API and the import activities."""
