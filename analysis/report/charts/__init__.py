"""Charts and tables of the site, one module per page (plus render and present)."""
