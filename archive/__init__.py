"""The SQLite archive of El Ciudadano: schema, writes, search, exports, Datasette."""
