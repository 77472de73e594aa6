"""HTML pages of the catalog, one module per area; thin function views over services."""
