"""Rosters: reading class lists, matching them to the database, writing, exporting."""
